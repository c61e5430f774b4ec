"""pxsec cuts a manifest stream into documents exactly as Kubernetes does (issue 20; issue 23's
quadratic split).

Encodes k8s.io/apimachinery pkg/util/yaml/decoder.go as of v0.34 (kubectl 1.34, Helm, Argo CD):
- `YAMLReader.Read` over `LineReader.Read`: lines end at `\\n` only; a line starting with `---`
  whose rest, `strings.TrimSpace`d (Go's `unicode.IsSpace`), is empty or starts with `#` ends a
  document and belongs to none; any other rest is `invalid Yaml document separator` for the
  whole stream.
- `NewYAMLOrJSONDecoder`/`GuessJSONStream`/`YAMLOrJSONDecoder.Decode`: a stream whose first
  non-space byte is `{` is read as JSON values one after another; when a value fails to decode
  after at most one good one, `consumeWhitespace` and the rest is YAML; after two, an error.
- `YAMLToJSONDecoder.Decode` -> sigs.k8s.io/yaml `Unmarshal` -> go-yaml v2 `yaml.Unmarshal`,
  which parses only the first document of a chunk (`p.parse()` once): verified below through
  the oracle, a CR-only stream is read as one object.

Every input here is also read by the oracle (tools/k8sread, apimachinery's own reader): pxsec's
documents (kind/name) equal Kubernetes', and render's output, read by Kubernetes, has every
Portworx DaemonSet secured (tests/invariants.py).
"""
from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings, strategies as st
import yaml

import invariants as inv
from conftest import ROOT, read_env_file, run_pxsec
from k8s_view import K8sReadError, read, read_many
from pxsec.render import stream
from pxsec.errors import Location, PxsecError
from robustness import families

SPEC = ROOT / "tests" / "cases" / "multi-pool" / "spec.yaml"
CREATE = ROOT / "tests" / "cases" / "create-secret"


def ds(name: str = "portworx") -> str:
    return ("apiVersion: apps/v1\nkind: DaemonSet\n"
            f"metadata: {{name: {name}, namespace: kube-system}}\n"
            "spec:\n  selector: {matchLabels: {name: portworx}}\n  template:\n"
            "    metadata: {labels: {name: portworx}}\n    spec:\n      containers:\n"
            "      - name: portworx\n        image: portworx/oci-monitor:3.1.0\n        args: [-c, px-cluster]\n")


def cm(name: str = "after") -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: kube-system}}\ndata: {{a: b}}\n"


def as_json(text: str) -> str:
    return json.dumps(yaml.safe_load(text), indent=1)


def where(file: str, index: int) -> str:
    """How an error names a document (Location.describe: the numbering is errors.py's)."""
    return Location(file, index).describe()


def pxsec_ids(text: str) -> list:
    return [(d.kind, d.name) for d in stream.parse(text, "t") if d.index >= 0 and not d.empty]


def k8s_ids(text: str) -> list:
    return [(o.get("kind"), (o.get("metadata") or {}).get("name")) for o in read(text)]


def render(text: str, spec=SPEC, env=None):
    return run_pxsec(["render", "--spec", str(spec), "-"], stdin=text.encode(), env=env)


def spec_doc(spec=SPEC) -> dict:
    return yaml.safe_load(spec.read_text())


def assert_secured(text: str, spec=SPEC, env=None, daemonsets: int = 1) -> str:
    """Render; Kubernetes reads the output; every Portworx DaemonSet in it is secured;
    rendering the output again changes nothing."""
    r = render(text, spec, env)
    assert r.returncode == 0, r.stderr.decode()
    out = r.stdout.decode()
    objs = read(out)
    assert sum(o.get("kind") == "DaemonSet" for o in objs) == daemonsets
    assert inv.violations(objs, spec_doc(spec), baseline=read(text)) == []
    again = render(out, spec, env)
    assert again.returncode == 0 and again.stdout == r.stdout
    return out


# --- 1. `---#: x` and friends are separators -----------------------------------------------------

SEPARATORS = ["---#: x", "---# Source: portworx/templates/ds.yaml", "---\u00a0#: x", "---\u0085", "--- # x",
              "---\t", "---\u3000#", "---\u2028#: x", "---  #: x\r"]


@pytest.mark.parametrize("sep", SEPARATORS, ids=repr)
def test_separator_spellings_split_as_kubernetes(sep):
    """YAMLReader.Read: `---` then TrimSpace'd nothing or `#...` ends the document. YAML reads
    `---#: x` as a key of the DaemonSet, so the ConfigMap's identity overrode it: render
    passed the DaemonSet through unsecured (exit 0)."""
    text = ds() + sep + "\n" + cm()
    assert pxsec_ids(text) == k8s_ids(text) == [("DaemonSet", "portworx"), ("ConfigMap", "after")]
    out = assert_secured(text)
    assert out.endswith(sep + "\n" + cm())  # the untouched document, separator included, byte for byte
    assert "  selector: {matchLabels: {name: portworx}}\n" in out  # the DaemonSet patched in place, not re-dumped


def test_two_pools_behind_comment_separators_are_both_secured():
    """Two Portworx DaemonSets (two pools) joined by `---# Source:` lines: both secured."""
    text = "---# Source: px/templates/a.yaml\n" + ds("px-a") + "---# Source: px/templates/b.yaml\n" + ds("px-b")
    assert pxsec_ids(text) == k8s_ids(text) == [("DaemonSet", "px-a"), ("DaemonSet", "px-b")]
    assert_secured(text, daemonsets=2)


def test_check_sees_every_document(tmp_path):
    """`pxsec check` reads the documents Kubernetes reads: both DaemonSets are reported."""
    f = tmp_path / "in.yaml"
    f.write_text(ds("px-a") + "---#: x\n" + ds("px-b") + "---\u00a0#: y\n" + cm())
    r = run_pxsec(["check", "--format", "json", str(f)])
    report = json.loads(r.stdout)
    assert r.returncode == 1
    assert {(x["index"], x["name"]) for x in report["findings"] if x["rule_id"] == "PXS001"} == \
        {(0, "px-a"), (1, "px-b")}


# --- 2. anything else after `---` is an error for the whole stream --------------------------------

BAD = ["--- {a: b}", "----", "---x", "--- !!map", "---\x1c#", "---\u200b# x", "--- hunter2-secret-value"]


@pytest.mark.parametrize("sep", BAD, ids=repr)
def test_bad_separator_is_refused_like_kubectl(sep):
    """YAMLReader.Read: `invalid Yaml document separator`. One line naming file and line, never
    the line's content (it may be a secret); exit 1; nothing on stdout."""
    text = cm("before") + sep + "\n" + ds()
    with pytest.raises(K8sReadError, match="invalid Yaml document separator"):
        read(text)
    r = render(text)
    err = r.stderr.decode()
    assert r.returncode == 1 and r.stdout == b""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"pxsec: error: {where('<stdin>', 1)}: line 5: invalid document separator"), err
    assert sep not in err and "hunter2" not in err  # the line's content is never echoed


def test_bad_separator_names_the_document_it_opens():
    for text, index in (("# c\n---\nkind: A\n--- x\n", 1), ("kind: A\n--- x\n", 1), ("--- x\n", 0)):
        with pytest.raises(PxsecError) as e:
            stream.parse(text, "t")
        assert e.value.location.index == index, text


def test_bad_separator_is_a_check_finding(tmp_path):
    f = tmp_path / "in.yaml"
    f.write_text(cm("before") + "--- {a: b}\n" + ds())
    r = run_pxsec(["check", "--format", "json", str(f)])
    finding = json.loads(r.stdout)["findings"][0]
    assert r.returncode == 1 and finding["rule_id"] == "PXS000" and finding["line"] == 5


# --- 3. JSON streams and a BOM at the start of a later document -----------------------------------

def test_json_stream_is_read_value_by_value():
    """GuessJSONStream + YAMLOrJSONDecoder.Decode: `{...}\\n{...}` is two documents. The changed
    DaemonSet is written as JSON, so Kubernetes still reads a JSON stream; the untouched
    ConfigMap keeps its bytes."""
    text = as_json(cm("before")) + "\n" + as_json(ds()) + "\n" + as_json(cm("after")) + "\n"
    with pytest.raises(yaml.YAMLError):
        list(yaml.compose_all(text))  # not a YAML stream at all
    assert pxsec_ids(text) == k8s_ids(text) == [("ConfigMap", "before"), ("DaemonSet", "portworx"),
                                                 ("ConfigMap", "after")]
    out = assert_secured(text)
    assert out.startswith(as_json(cm("before")) + "\n{") and out.endswith("\n" + as_json(cm("after")) + "\n")


@pytest.mark.parametrize("joint", ["\n---\n", "\n", " "], ids=repr)
def test_yaml_after_one_json_value(joint):
    """Decode: after one JSON value (count <= 1) a value that is not JSON switches to YAML for
    the rest of the stream, after consumeWhitespace (up to and including the first newline)."""
    text = as_json(cm("before")) + joint + ds()
    assert pxsec_ids(text) == k8s_ids(text) == [("ConfigMap", "before"), ("DaemonSet", "portworx")]
    assert_secured(text)


def test_yaml_after_two_json_values_is_refused():
    text = as_json(cm("a")) + "\n" + as_json(cm("b")) + "\n---\n" + ds()
    with pytest.raises(K8sReadError):
        read(text)
    line = text[:text.index("---")].count("\n") + 1
    with pytest.raises(PxsecError) as e:
        stream.parse(text, "t")
    assert e.value.location.index == 2 and e.value.message.startswith(f"line {line}: invalid JSON in a JSON stream")


def test_json_stream_with_a_generated_secret_stays_json():
    """A generated Secret after two JSON values is written as JSON too (Decode refuses YAML there)."""
    env = read_env_file(CREATE / "env")
    text = as_json(ds()) + "\n" + as_json(cm()) + "\n"
    out = assert_secured(text, CREATE / "spec.yaml", env)
    assert [o["kind"] for o in read(out)] == ["DaemonSet", "ConfigMap", "Secret"]
    assert "---" not in out and all(v not in out for v in env.values())  # base64 only


ROUND_TRIP = [
    "\n\n{a: b, kind: X}\n",
    "  {kind: X, metadata: {name: a}}\n---\n{kind: Y}\n",
    '{"kind":"A"}\n\n\n  kind: B\n',
    '{"kind":"A"}   {"kind": "B"}  \n\n',
    '{"kind":"A"} kind: B\n---\nkind: C',
    "---#: x\nkind: A\n---\n--- # y\nkind: B\n---\u00a0# z\r\n\ufeffkind: C\n",
    '{"kind":\t"A"}\r\n\t{\n\t"kind": "B"}',  # tabs: JSON whitespace, not YAML indentation
    "\ufeff# c\n---\n# Source: x\nkind: A\n---\n",
]


@pytest.mark.parametrize("text", ROUND_TRIP, ids=repr)
def test_streams_join_back_byte_for_byte(text):
    """Nothing changed, nothing added: the output is the input, whatever the framing (a JSON value
    followed by YAML without a separator included: Decode switches to YAML on its own)."""
    assert stream.join(stream.parse(text, "t")) == text


def test_bom_at_the_start_of_a_later_document():
    """go-yaml (and libyaml) skip a BOM at the start of a document; LineReader keeps it."""
    text = cm("before") + "---\n\ufeff" + ds()
    assert pxsec_ids(text) == k8s_ids(text) == [("ConfigMap", "before"), ("DaemonSet", "portworx")]
    out = assert_secured(text)
    assert out.startswith(cm("before") + "---\n")


def test_bom_before_the_first_line_makes_it_content():
    """A BOM before `---#: x`: LineReader's first line does not start with `---`, so no
    separator; go-yaml reads `---#` as a key. pxsec reads the same object."""
    text = "\ufeff---#: x\n" + ds()
    assert pxsec_ids(text) == k8s_ids(text) == [("DaemonSet", "portworx")]


def test_a_document_read_again_in_its_place_drops_its_separator():
    """One document's output text, parsed alone, starts a stream: YAMLReader.Read keeps a first
    separator line as YAML (`---\u3000# c` then a mapping is a syntax error there). Read in its
    place (`continued`, as render's proof reads `doc.emitted`), the line is dropped."""
    text = cm("before") + "---\u3000# c\n" + ds()
    docs = stream.parse(text, "t")
    stream.join(docs)
    assert docs[1].separated and docs[1].emitted == "---\u3000# c\n" + ds()
    assert [(d.kind, d.name) for d in stream.parse(docs[1].emitted, "t", continued=True)] == [("DaemonSet", "portworx")]
    with pytest.raises(PxsecError):
        stream.parse(docs[1].emitted, "t")
    with pytest.raises(K8sReadError):
        read(docs[1].emitted)


# --- 4. YAML documents Kubernetes does not see: refused ------------------------------------------

@pytest.mark.parametrize("text", [
    cm("before").replace("\n", "\r") + "---\r" + ds().replace("\n", "\r"),
    cm("before") + "...\n" + ds(),
    cm("before") + "---\n" + cm("x") + "...\n%YAML 1.1\r---\r" + ds(),
    cm("before") + "---\n" + cm("x") + "\u2028---\u2028" + ds(),
], ids=["cr-only", "end-marker-then-content", "directive-after-end-marker", "line-separator"])
def test_a_second_yaml_document_in_one_chunk_is_refused(text):
    """go-yaml v2 (sigs.k8s.io/yaml Unmarshal) reads the first YAML document of a chunk only:
    Kubernetes never sees the DaemonSet. pxsec refuses instead of guessing."""
    try:
        seen = k8s_ids(text)
    except K8sReadError:
        seen = None
    assert seen is None or ("DaemonSet", "portworx") not in seen
    r = render(text)
    err = r.stderr.decode()
    assert r.returncode == 1 and r.stdout == b"" and err.count("\n") == 1
    assert "inside one Kubernetes document" in err or "invalid YAML" in err, err


def test_cr_only_output_is_never_written():
    """Before: render wrote `---\\rapiVersion`, a line kubectl refuses."""
    r = render(ds().replace("\n", "\r") + "\r---\r" + cm().replace("\n", "\r"))
    assert r.returncode == 1 and b"---\rapiVersion" not in r.stdout


# --- 5. errors keep their lines -------------------------------------------------------------------

@pytest.mark.parametrize("cmd", ["render", "check"])
def test_syntax_error_names_the_document_and_line_after_a_comment_separator(cmd, tmp_path):
    """The broken document is one render reads (its text names a Portworx DaemonSet): documents
    render does not touch are scanned, not parsed (issue 23), and check reads them all."""
    f = tmp_path / "in.yaml"
    f.write_text(ds() + "---#: x\n" + cm() + "---# y\nkind: DaemonSet\nmetadata: {name: portworx, labels: [x\n")
    if cmd == "render":
        r = run_pxsec(["render", "--spec", str(SPEC), str(f)])
        assert r.returncode == 1
        assert f"{where(str(f), 2)}: line 21, column 1: invalid YAML" in r.stderr.decode(), r.stderr.decode()
    else:
        r = run_pxsec(["check", "--format", "json", str(f)])
        finding = [x for x in json.loads(r.stdout)["findings"] if x["rule_id"] == "PXS000"][0]
        assert (finding["index"], finding["line"]) == (2, 20)  # check places an error at the end on the last line


def test_a_control_character_names_its_document_and_line():
    """libyaml's reader refuses a control character anywhere in the one C pass; the error still
    names the document (and line) it is in, not the first one."""
    text = cm("a") + "---# x\n" + cm("b") + "---\n" + cm("c").replace("{a: b}", '{a: "\x07"}')
    with pytest.raises(PxsecError) as e:
        stream.parse(text, "t", worth_composing=lambda chunk: False, syntax=True)  # check's read
    assert e.value.location.index == 2
    assert e.value.message.startswith("line 14, column 12: invalid YAML: control character U+0007")


def test_check_lines_after_a_comment_separator(tmp_path):
    """Finding lines count the separator line: the blanked line keeps every mark in place."""
    f = tmp_path / "in.yaml"
    f.write_text(cm("before") + "---\u00a0# Source: x\n" + ds())
    finding = [x for x in json.loads(run_pxsec(["check", "--format", "json", str(f)]).stdout)["findings"]
               if x["rule_id"] == "PXS001"][0]
    assert (finding["index"], finding["line"]) == (1, 5 + 10)  # `- name: portworx` is line 10 of ds()


# --- 6. linear -----------------------------------------------------------------------------------

def _stream_of(n: int) -> str:
    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {usage: 100%}\n"
    return "---\n".join([doc] * n)


def _characters_scanned(monkeypatch, text: str) -> int:
    """Characters handed to every text-scanning step of splitting and syntax checking."""
    from pxsec.render import k8ssplit, streamsyntax

    seen = [0]

    def counting(fn, plain=False):
        def wrapped(*a, **k):
            seen[0] += len(a[0]) if isinstance(a[0], str) else 0
            if plain:  # libyaml's C parser takes an exact str
                a = tuple("".join((x,)) if isinstance(x, str) else x for x in a)
            return fn(*a, **k)
        return wrapped

    class Scanned(str):
        """The stream itself: every search method on it adds the range it may scan."""

        def _span(self, start=None, end=None) -> int:
            start, end, _ = slice(start, end).indices(len(self))
            return max(end - start, 0)

        def find(self, sub, *a):
            seen[0] += self._span(*a)
            return str.find(self, sub, *a)

        def rfind(self, sub, *a):
            seen[0] += self._span(*a)
            return str.rfind(self, sub, *a)

        def count(self, sub, *a):
            seen[0] += self._span(*a)
            return str.count(self, sub, *a)

        def index(self, sub, *a):
            seen[0] += self._span(*a)
            return str.index(self, sub, *a)

        def rindex(self, sub, *a):
            seen[0] += self._span(*a)
            return str.rindex(self, sub, *a)

        def __contains__(self, sub):
            seen[0] += len(self)
            return str.__contains__(self, sub)

    text = Scanned(text)
    for name in ("frames", "inner_markers", "normalised", "line_count"):
        monkeypatch.setattr(k8ssplit, name, counting(getattr(k8ssplit, name)))
    for name, plain in (("body", False), ("_looks_empty", False), ("check_depth", False), ("compose", False),
                        ("_one_document", False), ("SyntaxLoader", True)):
        for mod in (stream, streamsyntax):
            if hasattr(mod, name):
                monkeypatch.setattr(mod, name, counting(getattr(mod, name), plain))
    stream.parse(text, "t", worth_composing=lambda chunk: False)
    return seen[0]


def test_splitting_and_syntax_checking_scan_each_character_a_bounded_number_of_times(monkeypatch):
    """Issue 23: `_directive_start` scanned back to the start of the text for every marker of a
    stream with a `%` anywhere (quadratic). Now each step gets each character a bounded number
    of times, whatever the number of documents (counted, not timed)."""
    small, large = _stream_of(200), _stream_of(3000)
    per_char_small = _characters_scanned(monkeypatch, small) / len(small)
    monkeypatch.undo()
    per_char_large = _characters_scanned(monkeypatch, large) / len(large)
    assert per_char_large <= 12 and per_char_large <= per_char_small * 1.05


def test_the_directive_is_refused_where_kubernetes_refuses_it():
    """`%YAML 1.1` then a separator: LineReader gives go-yaml a chunk with a directive and no
    document (`did not find expected <document start>`)."""
    text = "%YAML 1.1\n---\n" + _stream_of(2)
    with pytest.raises(K8sReadError):
        read(text)
    with pytest.raises(PxsecError) as e:
        stream.parse(text, "t", worth_composing=lambda chunk: False)
    assert e.value.location.index == 0 and e.value.message.startswith("line 2")


# --- differential: generated separator spellings against the oracle -------------------------------

def test_generated_separator_spellings_read_as_kubernetes_reads_them():
    """families.separator (valid and invalid spellings, Go and non-Go spaces): pxsec refuses
    exactly the streams Kubernetes refuses, and otherwise sees the same documents."""
    r = random.Random(20)
    texts = []
    for _ in range(400):
        docs = [cm("a"), ds(), cm("b")][r.randrange(3):]
        head = families.separator(r, 0.2) if r.random() < 0.3 else ""
        texts.append(head + "".join(d + families.separator(r, 0.15) for d in docs[:-1]) + docs[-1])
    texts += [families.separators(r) for _ in range(100)]
    for _ in range(100):  # JSON values, sometimes followed by YAML
        values = [json.dumps(yaml.safe_load(d), indent=r.choice([None, 1])) for d in [cm("a"), ds(), cm("b")][r.randrange(3):]]
        text = "".join(v + r.choice(["\n", " ", "", "\r\n\t"]) for v in values)
        if r.random() < 0.4:
            text += r.choice(["", "---\n", families.separator(r, 0.2)]) + cm("c")
        texts.append(text)
    refused = 0
    for text, seen in zip(texts, read_many(texts)):
        try:
            mine = pxsec_ids(text)
        except PxsecError:
            mine = None
        if isinstance(seen, K8sReadError):
            refused += 1
            assert mine is None, (text, str(seen))
        else:
            assert mine == [(o.get("kind"), o["metadata"]["name"]) for o in seen], text
    assert 20 < refused < len(texts) - 200  # both kinds were exercised


# --- the scans, against the expressions they were first written as -------------------------------

_BLANKZ_SPEC = r"(?=[ \t\r\n\x85\u2028\u2029]|\Z)"
_INNER_NL_SPEC = __import__("re").compile(r"\n(?:\.\.\." + _BLANKZ_SPEC + "|%)")
_INNER_AT_START_SPEC = __import__("re").compile(r"\.\.\." + _BLANKZ_SPEC + "|%")
_LINE_TEXT = st.lists(st.sampled_from(["\n", "\r", "\r\n", ".", "...", "%", "---", " ", "\t", "\x85", "\u2028",
                                       "\u2029", "a", "#"]), max_size=16).map("".join)


@settings(max_examples=1500)
@given(_LINE_TEXT)
def test_the_scans_find_what_their_first_expressions_found(text):
    """k8ssplit checks a marker's end in Python and blanks a line without `re`, and _looks_empty
    cuts a text whose only line break is `\n` with str.find (compiling a class that mixes ASCII and
    U+2028 cost half a millisecond each): same answers as the expressions they replace."""
    import re

    from pxsec.render import k8ssplit, streamsyntax

    want = [0] if _INNER_AT_START_SPEC.match(text) else []
    want += [m.start() + 1 for m in _INNER_NL_SPEC.finditer(text)]
    if any(c in text for c in "\r\x85\u2028\u2029"):
        want += [m.start() + 1 for m in k8ssplit._INNER_RARE.finditer(text)]
    assert sorted(k8ssplit.marker_starts(text)) == sorted(want)  # unsorted: inner_markers sorts
    assert k8ssplit.blank(text) == re.sub(r"[^\r\n\x85\u2028\u2029]", " ", text)
    for separated in (False, True):
        assert streamsyntax._looks_empty(text, separated) == _looks_empty_spec(text, separated)


def _looks_empty_spec(text: str, separated: bool) -> bool:
    """streamsyntax._looks_empty as first written: every line cut with YAML's break expression."""
    import re

    from pxsec.render import streamsyntax

    breaks = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
    pos, n, first = 0, len(text), True
    if separated:
        pos, first = text.find("\n") + 1 or n, False
    while pos < n:
        m = breaks.search(text, pos)
        s = text[pos:m.start() if m else n].strip().lstrip("\ufeff")
        if first and streamsyntax._yaml_marker(s):
            s = s[3:].strip()
        first = False
        if s and not s.startswith(("#", "%")) and s != "...":
            return False
        pos = m.end() if m else n
    return True


_STREAM_TEXT = st.lists(st.sampled_from(["---", "--- ", "---#", "\n", "\r", "\r\n", " ", "\t", "#", "\ufeff", "a: 1",
                                         "x", "\n---\n", "\n--- #c\n", "\n---\r\n"]), max_size=14).map("".join)


@settings(max_examples=1500)
@given(_STREAM_TEXT, st.booleans())
def test_normalised_decides_as_its_first_expression_did(text, continued):
    """k8ssplit.normalised decides whether a stream needs its separator lines rewritten from
    each frame's dropped length and one character (issue 23: the expression cost 27 ms of a
    6,000-document check): same answer, and so the same text, as the expression it replaces."""
    from pxsec.render import k8ssplit

    try:
        frames = k8ssplit.frames(text, "t", continued=continued)
    except PxsecError:
        return
    first = any(f.separated and (text[f.start:f.body].rstrip("\r\n") != "---" or text.startswith("\ufeff", f.body))
                for f in frames)
    assert k8ssplit._needs_normalising(text, frames) == first
    assert (k8ssplit.normalised(text, frames) is text) == (not first)
