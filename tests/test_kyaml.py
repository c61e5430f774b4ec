"""kyaml reads YAML as Kubernetes' go-yaml v2 does, and writes strings every reader keeps as strings.

The tables follow sigs.k8s.io/yaml goyaml.v2 resolve.go (`resolve`, `resolveMapList`) and
decode.go (`merge`, timestamps into interface{} stay strings); the Go oracle in
tests/k8s_view.py checks the same on real pxsec output.
"""
from __future__ import annotations

import math
import re

import pytest
import yaml
from hypothesis import assume, example, given, settings, strategies as st

from pxsec.kubeyaml import kyaml
from pxsec.render.stream import _SyntaxLoader


def read(text):
    return kyaml.construct(yaml.compose(text, Loader=_SyntaxLoader))


@pytest.mark.parametrize("plain, want", [
    ("y", True), ("Y", True), ("yes", True), ("On", True), ("TRUE", True),
    ("n", False), ("N", False), ("no", False), ("off", False), ("False", False),
    ("~", None), ("null", None), ("", None),
    ("0o17", 15), ("0x1F", 31), ("0b101", 5), ("017", 15), ("1_000", 1000), ("-12", -12), ("+7", 7),
    ("08", 8.0), (".5", 0.5), ("1e3", 1000.0), ("-.5", -0.5),
    ("12:30", "12:30"), ("2001-12-14", "2001-12-14"), ("=", "="), ("<<x", "<<x"), ("0x", "0x"),
    ("NaN", "NaN"), ("yesterday", "yesterday"), ("1.2.3", "1.2.3"),
])
def test_plain_scalars_resolve_like_go_yaml(plain, want):
    got = kyaml.resolve_plain(plain)
    assert type(got) is type(want) and got == want


def test_special_floats():
    assert math.isnan(kyaml.resolve_plain(".nan")) and kyaml.resolve_plain("-.Inf") == float("-inf")


def test_quoted_and_tagged_scalars():
    assert read('a: "y"\nb: !!str y\nc: !!binary cG9ydHdvcng=\nd: !custom 12\n') == \
        {"a": "y", "b": "y", "c": "portworx", "d": "12"}
    with pytest.raises(kyaml.Unrepresentable):
        read("a: !!int abc\n")


def test_merge_key_applies_where_it_stands():
    # go-yaml v2 decode.go merge(): keys are set in document order, so a merge after an explicit
    # key overwrites it (PyYAML would keep "sidecar")
    assert read("name: sidecar\n<<: {name: portworx}\n") == {"name": "portworx"}
    assert read("<<: {name: portworx}\nname: sidecar\n") == {"name": "sidecar"}
    assert read("<<: [{a: 1}, {a: 2, b: 2}]\n") == {"a": 1, "b": 2}  # earlier mappings win


def test_aliases_are_shared_until_unshared():
    obj = read("a: &x [1]\nb: *x\n")
    assert obj["a"] is obj["b"]
    copy = kyaml.unshare(obj)
    assert copy == obj and copy["a"] is not copy["b"]


def test_keys_become_strings_as_in_json():
    assert read("y: 1\n1: 2\n") == {"true": 1, "1": 2}


@pytest.mark.parametrize("value", ["y", "Y", "n", "on", "12:30", "0o17", "1_000", ".5", "~", "=", "2001-12-14",
                                   "null", "1e3", "08", "<<", "yes", "0x1F", "-.inf", ""])
def test_dumped_strings_stay_strings_for_every_reader(value):
    text = kyaml.dump({"v": value})
    assert read(text) == {"v": value}  # go-yaml's reading
    assert yaml.safe_load(text) == {"v": value}  # YAML 1.1's reading


def test_same_tells_types_apart():
    assert not kyaml.same({"a": True}, {"a": 1}) and not kyaml.same([1], [1.0]) and kyaml.same({"a": [1]}, {"a": [1]})


# resolve_plain's numbers as first written: every value through the two patterns
_GO_FLOAT_SPEC = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_GO_INT_SPEC = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)\Z")


def _resolve_number_spec(value: str):
    if value.startswith("."):
        return float(value) if re.match(r"\.[0-9]+([eE][-+]?[0-9]+)?\Z", value) else value
    if re.match(r"[0-9]{4}-", value):
        return value
    plain = value.replace("_", "")
    if _GO_INT_SPEC.match(plain):
        return kyaml._go_int(plain)
    if _GO_FLOAT_SPEC.match(plain):
        return float(plain)
    return value


@example("-", "f")
@example("1", "27.0.0.1")
@example(".", "/etc/x")
@example(".", "5")
@example(".", "5e3")
@example("-", "1")
@example("+", "0")
@example("-", "01")
@example(".", "1.2")
@example("0", "xF")
@example("0", "XaF")
@example("0", "o17")
@example("0", "b101")
@example("1", "e5")
@example("1", ".5E-3")
@example("-", "0x1f")
@example("0", "8")
@example("0", "9.5")
@example("+", "12")
@example("1", "_000")
@example("2", ".8.0")
@example("2", "00m")
@example("1", "Gi")
@example("0", "")
@example("-", "0")
@example("0", "07")
@example("1", "d")
@example("0", "xE")
@settings(max_examples=2000)
@given(st.sampled_from("+-.0123456789"), st.lists(st.sampled_from(list("0123456789_.eExXoObBaAfFgGmMi-+ \u0661")),
                                                 max_size=10).map("".join))
def test_numbers_resolve_as_their_first_patterns_did(first, rest):
    """The fast paths (plain decimals, values with no number's character) and the lazily
    compiled patterns decode every value as the eager patterns did."""
    value = first + rest
    assume(value not in kyaml._MAP)
    got, want = kyaml.resolve_plain(value), _resolve_number_spec(value)
    assert type(got) is type(want) and (got == want or got != got and want != want), (value, got, want)


def test_the_syntax_loader_composes_as_with_pyyamls_resolver_hooks():
    """yamlsafe.SyntaxLoader replaces BaseResolver's descend/ascend hooks (path resolvers, which
    pxsec never adds) with C no-ops: the node trees are the same, tags, styles and marks included."""
    from conftest import CORPUS, ROOT
    from pxsec.kubeyaml.yamlsafe import SyntaxLoader

    class WithHooks(SyntaxLoader):
        descend_resolver = yaml.resolver.BaseResolver.descend_resolver
        ascend_resolver = yaml.resolver.BaseResolver.ascend_resolver

    def tree(n):
        if isinstance(n, yaml.ScalarNode):
            return n.tag, n.value, n.style, n.start_mark.index, n.end_mark.index
        if isinstance(n, yaml.SequenceNode):
            return n.tag, n.flow_style, [tree(x) for x in n.value]
        return n.tag, n.flow_style, [(tree(k), tree(v)) for k, v in n.value]

    paths = [ROOT / "examples" / "portworx.yaml"] + sorted(CORPUS.rglob("*.yaml"))[:8]
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert [tree(n) for n in yaml.compose_all(text, Loader=SyntaxLoader)] == \
            [tree(n) for n in yaml.compose_all(text, Loader=WithHooks)], path
