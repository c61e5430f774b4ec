"""pxsec.render.pipeline.worth_composing: the cheap text test that decides which documents are
parsed at all. A target it misses would pass through unsecured, so it is tested against targets
whose every string is spelled with YAML escapes (libyaml scanner.c yaml_parser_scan_flow_scalar,
ported by go-yaml v2's scannerc.go: what Kubernetes decodes)."""
from __future__ import annotations

import re

import yaml
from hypothesis import given, settings, strategies as st

from pxsec import spec as specmod
from pxsec.render import pipeline

SPEC = specmod.build({"secret": {"name": "px-keys"}, "selfSigned": {"issuer": "openstorage.io", "sharedSecret": True},
                      "stork": {"enabled": True}, "usernameClaim": "email"})
TEST = pipeline.worth_composing(SPEC)
AUDIT = pipeline.worth_composing(None)


def _pod(container: dict) -> dict:
    return {"template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [container]}}}


TARGETS = [
    {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "px", "namespace": "kube-system"},
     "spec": _pod({"name": "px", "image": "docker.io/portworx/oci-monitor:2.8.0", "args": ["-c", "c1"]})},
    {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "a"}, "spec": _pod({"name": "portworx"})},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "s"},
     "spec": _pod({"name": "x", "image": "openstorage/stork:2.6"})},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "s"}, "spec": _pod({"name": "autopilot"})},
    {"apiVersion": "core.libopenstorage.org/v1", "kind": "StorageCluster", "metadata": {"name": "px"}},
    {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "px-keys"}, "stringData": {"k": "v"}},
    {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "sc"},
     "provisioner": "pxd.portworx.com"},
    {"apiVersion": "v1", "kind": "List", "items": []},
]


def _quoted(s: str, draw, indent: int | None = None) -> str:
    """`s` as a YAML double-quoted scalar, each character literal or escaped; a value (not a key:
    a simple key is one line) gets escaped line breaks here and there, the next line indented
    past `indent` (YAML drops those leading blanks)."""
    out = ['"']
    for ch in s:
        how = draw(st.sampled_from(("lit", "x", "u", "U", "break" if indent is not None else "lit")))
        if how == "break":
            out.append("\\\n" + " " * (indent + 1 + draw(st.integers(0, 2))) + "\t" * draw(st.integers(0, 1)))
            how = "lit"
        if how == "lit" or ord(ch) > 0xFF and how == "x":
            out.append({"\\": "\\\\", '"': '\\"'}.get(ch, ch))
        elif how == "x":
            out.append(f"\\x{ord(ch):02x}")
        elif how == "u":
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return "".join(out) + '"'


def _emit(value, draw, indent: int = 0) -> str:
    """Block YAML in which every key and every string is double-quoted and escaped."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        lines = []
        for k, v in value.items():
            inner = _emit(v, draw, indent + 2)
            sep = "\n" if isinstance(v, (dict, list)) and v else " "
            lines.append(f"{pad}{_quoted(k, draw)}:{sep}{inner}")
        return "\n".join(lines)
    if isinstance(value, list):
        if not value:
            return "[]"
        return "\n".join(f"{pad}- " + _emit(v, draw, indent + 2).lstrip() for v in value)
    return _quoted(value, draw, indent)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(TARGETS), st.data())
def test_a_target_spelled_with_escapes_is_composed(obj, data):
    text = _emit(obj, data.draw) + "\n"
    assert yaml.safe_load(text) == obj  # the escapes decode to the target: Kubernetes sees it
    assert TEST(text) and AUDIT(text), text


def test_escapes_decode_as_yaml_decodes_them():
    text = r'''a: "\x44aemon\u0053et\U00000021 \0\a\b\t\n\v\f\r\e\ \"\/\\\N\_\L\P"''' + '\nb: "x\\\n   y"\n'
    want = yaml.safe_load(text)
    assert want["a"] in pipeline.decode_escapes(text) and want["b"] in pipeline.decode_escapes(text)


def test_a_crd_with_backslashes_is_not_composed():
    """A backslash alone no longer forces a parse (a 19 KB snapshot CRD of the PX 2.8 chart was
    composed on every render for its regex patterns)."""
    crd = ('apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: x.example.com\n'
           'spec:\n  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema:\n        properties:\n'
           '          size: {type: string, pattern: "^\\\\d+(\\\\.\\\\d+)?[KMGT]i?$"}\n'
           '          note: {type: string, description: "a \\"quoted\\" word, a tab\\t"}\n')
    assert yaml.safe_load(crd)["kind"] == "CustomResourceDefinition"
    assert not TEST(crd) and not AUDIT(crd)
    assert TEST(crd.replace("x.example.com", '"Daemon\\x53et"') + "portworx: containers\n")


# The text tests as first written, kept here as their specification: the faster forms in
# pipeline.py must find exactly what these find.
_TAG_OR_ALIAS_SPEC = re.compile(r"(?:^|[\s\[{,?:-])[!&*][^\s\[\]{},]", re.M)
_KIND_WORD_SPEC = re.compile(r"\bkind\W{0,3}:\s*\W?StorageCluster\b|(?:^|[{,]\s*)[\"']?items[\"']?\s*:", re.M)
_PIECES = st.sampled_from(["items", "kind", "StorageCluster", ":", " ", "\n", "\t", "\u2003", "\r", "'", '"', "{",
                           ",", "[", "]", "}", "?", "-", "!", "&", "*", "x", "_", "a1", "\u00e9"])


@settings(max_examples=1500)
@given(st.lists(_PIECES, max_size=14).map("".join))
def test_the_fast_text_tests_find_what_their_specification_finds(text):
    assert bool(pipeline._TAG_OR_ALIAS.search(text)) == bool(_TAG_OR_ALIAS_SPEC.search(text)), repr(text)
    fast = bool(pipeline._KIND_STORAGECLUSTER.search(text)) or pipeline._top_level_items(text)
    assert fast == bool(_KIND_WORD_SPEC.search(text)), repr(text)


def test_the_fast_text_tests_on_the_corpus():
    from conftest import CORPUS, require_corpus

    require_corpus()
    seen = 0
    for path in sorted(CORPUS.rglob("*.y*ml")):
        for chunk in path.read_text(encoding="utf-8", errors="replace").split("\n---"):
            seen += bool(_KIND_WORD_SPEC.search(chunk))
            assert bool(pipeline._TAG_OR_ALIAS.search(chunk)) == bool(_TAG_OR_ALIAS_SPEC.search(chunk))
            assert (bool(pipeline._KIND_STORAGECLUSTER.search(chunk)) or pipeline._top_level_items(chunk)) \
                == bool(_KIND_WORD_SPEC.search(chunk))
    assert seen  # the corpus has StorageClusters and Lists: the comparison saw both answers


# decode_escapes as first written, with `re`: the loop must decode exactly as it did
_ESCAPE_SPEC = re.compile(r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|(?:\r\n|[\r\n\x85\u2028\u2029])[ \t]*|.)",
                          re.S)


def _unescape_spec(m: re.Match) -> str:
    e = m.group(1)
    if e[0] in "xuU" and len(e) > 1:
        code = int(e[1:], 16)
        return chr(code) if code <= 0x10FFFF else ""
    if e[0] in "\r\n\x85\u2028\u2029":
        return ""
    return pipeline._SIMPLE_ESCAPES.get(e, e)


@settings(max_examples=1500)
@given(st.lists(st.sampled_from(["\\", "x", "u", "U", "4", "1", "F", "g", "0", "\r", "\n", "\r\n", " ", "\t", "\x85",
                                 "\u2028", '"', "N", "L", "/", "a"]), max_size=20).map("".join))
def test_the_escape_loop_decodes_as_its_first_expression_did(text):
    assert pipeline.decode_escapes(text) == _ESCAPE_SPEC.sub(_unescape_spec, text), repr(text)
