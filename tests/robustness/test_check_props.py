"""Property tests of `pxsec check`, in-process. Skipped while renderer/commands/check.py does
not exist.

`check` exits 0 (nothing fails), 1 (findings that fail, report on stdout; or a one-line error
with empty stdout) or 2 (usage: bad option, unreadable input, invalid spec). Here: never a
traceback or internal error; secrets (canaries in the environment) appear on neither stream;
a JSON report always parses. And check agrees with render: on what `render` printed for an
input, `check --spec` with the same spec finds no drift (PXS019) and no refusal (PXS020).

Budget: random inputs with or without a spec 600 + check-after-render 500 (check goes through
Typer, ~20-50 ms an in-process call, so fewer examples than render).
"""
from __future__ import annotations

import itertools
import json

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from . import oracle, strategies as s
from .harness import (CANARIES, assert_no_crash, assert_one_line_error, count, dump_spec, hypothesis_settings,
                      known_bug, leaks, outcome, run_inprocess, scaled, write)


SETTINGS = hypothesis_settings()
BUDGET = scaled({"check_inputs": 600, "check_after_render": 500})
_serial = itertools.count()

INPUTS = st.one_of(s.malformed_bytes(), s.odd_yaml_bytes(), s.manifest_texts.map(str.encode),
                   s.manifest_texts.map(str.encode))


def check(workdir, spec_text: str | None, stdin: bytes, fmt: str, strict: bool, name: str):
    argv = ["check", "-f", fmt] + (["--strict"] if strict else [])
    if spec_text is not None:
        argv += ["-s", str(write(workdir / f"check-spec-{next(_serial) % 64}.yaml", spec_text))]
    o = run_inprocess(argv + ["-"], stdin, CANARIES)
    assert_no_crash(o, CANARIES)
    outcome(name, o.code)
    assert not leaks(o.stdout, CANARIES), "a secret value from the environment in the report"
    if o.code in (0, 1) and o.stdout and fmt == "json":
        report = json.loads(o.stdout.decode("utf-8"))
        assert isinstance(report.get("findings"), list)
    if o.code == 1 and not o.stdout:
        assert_one_line_error(o)
    if o.code == 0:
        assert o.stdout, "exit 0 without a report"
        oracle.record("check_zero", "", stdin, stdin)  # a gate passed it: the kubelet's model must agree
    if o.code == 2:
        assert o.stderr.strip(), "exit 2 without a message"
    return o


@settings(max_examples=BUDGET["check_inputs"], **SETTINGS)
@given(stdin=INPUTS, spec=st.none() | s.spec_docs.map(dump_spec), fmt=st.sampled_from(["text", "json", "sarif"]),
       strict=st.booleans())
def test_check_random_inputs(workdir, stdin, spec, fmt, strict):
    assume(not known_bug(spec, stdin))
    count("check_inputs")
    o = check(workdir, spec, stdin, fmt, strict, "check_inputs")
    if fmt == "sarif" and o.code in (0, 1) and o.stdout:
        json.loads(o.stdout.decode("utf-8"))


@settings(max_examples=BUDGET["check_after_render"], **SETTINGS)
@given(stdin=s.manifest_texts.map(str.encode), spec=s.valid_spec_docs.map(dump_spec) | s.secret_create_spec_docs.map(dump_spec))
def test_check_finds_no_drift_in_what_render_printed(workdir, stdin, spec):
    assume(not known_bug(spec, stdin))
    count("check_after_render")
    spec_path = write(workdir / f"check-spec-{next(_serial) % 64}.yaml", spec)
    rendered = run_inprocess(["render", "-s", str(spec_path), "-"], stdin, CANARIES)
    assume(rendered.code == 0)
    o = check(workdir, spec, rendered.stdout, "json", False, "check_after_render")
    assert o.code in (0, 1) and o.stdout, f"check could not check render's output: {o.stderr!r}"
    findings = json.loads(o.stdout.decode("utf-8"))["findings"]
    drift = [f for f in findings if f.get("rule_id") in ("PXS019", "PXS020")]
    assert not drift, f"check reports drift on render's own output: {drift}"
