"""`pxsec check` against render's golden cases (tests/cases): render's own output passes the rules
check added for what render does (PXS023-PXS028) with the case's spec, and every input render
refuses through `portworx.refusal` is a PXS023 finding at the field render's error names."""
from __future__ import annotations

import pytest
import yaml

from conftest import ROOT
from pxsec import audit
from pxsec import spec as specmod

CASES = ROOT / "tests" / "cases"
OK_CASES = sorted(p.name for p in CASES.iterdir() if (p / "want.yaml").is_file())
NEW_RULES = {"PXS023", "PXS024", "PXS025", "PXS026", "PXS027", "PXS028"}
REFUSED = ("shell-wrapper", "portworx-init-container", "portworx-in-deployment")


def _spec(d):
    return specmod.from_document(yaml.safe_load((d / "spec.yaml").read_text()), str(d / "spec.yaml"))


@pytest.mark.parametrize("case", OK_CASES)
def test_render_output_has_no_error_of_the_new_rules(case):
    d = CASES / case
    report = audit.check([("want.yaml", (d / "want.yaml").read_text())], _spec(d))
    assert [(f.rule_id, f.field, f.message) for f in report.findings
            if f.rule_id in NEW_RULES and f.severity == "error"] == []


def test_the_cases_exercise_the_new_rules():
    """Guard against the test above passing vacuously: the inputs do have these problems."""
    found = set()
    for case in OK_CASES:
        found |= {f.rule_id for f in audit.check([("in.yaml", (CASES / case / "input.yaml").read_text())]).findings}
    assert {"PXS024", "PXS025"} <= found
    rendered = audit.check([("want.yaml", (CASES / "storageclasses" / "want.yaml").read_text())])
    assert [f.name for f in rendered.findings if f.rule_id == "PXS027"] == ["px-scratch"]  # excluded: a note


@pytest.mark.parametrize("case", REFUSED)
def test_inputs_render_refuses_are_pxs023_at_the_same_field(case):
    d = CASES / "errors" / case
    error = (d / "want-error.txt").read_text()
    [f] = [f for f in audit.check([("input.yaml", (d / "input.yaml").read_text())]).findings
           if f.rule_id == "PXS023"]
    assert f": {f.field}: " in error and f.line is not None
