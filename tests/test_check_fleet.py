"""`pxsec check --cluster NAME=PATH ...`: a fleet audit of several clusters' `kubectl get -o yaml`
output in one run. Each cluster is checked on its own (cluster-wide rules such as PXS003 and
Stork pairing never cross clusters), has its own finding list and summary, and every report
format names the cluster in each finding."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from check.manifests import container, lit, portworx, stork, text
from conftest import run_pxsec
from test_check_formats import junit_errors, runner_parse
from test_check_sarif import errors as sarif_errors

SECRET_VALUE = "fleet-literal-secret-never-printed"


def kubectl_list(*objs) -> str:
    """What `kubectl get ... -o yaml` prints: one List."""
    return text({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": list(objs)})


@pytest.fixture
def fleet(tmp_path):
    """prod: a secured install; stage: an unsecured Portworx of the same name and namespace
    (together they would be one mixed cluster, PXS003); dev: a key written as a literal."""
    (tmp_path / "prod.yaml").write_text(kubectl_list(portworx(), stork()))
    (tmp_path / "stage.yaml").write_text(kubectl_list(portworx(issuer=None, env=[])))
    ds = portworx()
    container(ds)["env"][2] = lit("PORTWORX_AUTH_SYSTEM_KEY", SECRET_VALUE)
    (tmp_path / "dev.yaml").write_text(kubectl_list(ds, stork()))
    return tmp_path


ARGS = ["--cluster", "prod=prod.yaml", "--cluster", "stage=stage.yaml", "--cluster", "dev.yaml"]


def test_each_cluster_is_checked_on_its_own_and_named_in_each_finding(fleet):
    r = run_pxsec(["check", "--format", "json", *ARGS], cwd=fleet)
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert [c["name"] for c in doc["clusters"]] == ["prod", "stage", "dev"]  # dev: named after its file
    by_cluster = {c["name"]: c["summary"] for c in doc["clusters"]}
    assert by_cluster["prod"]["error"] == 0 and by_cluster["stage"]["error"] == 1 and by_cluster["dev"]["error"] == 1
    assert doc["summary"]["error"] == 2 and doc["summary"]["workloads"] == 5
    found = {(f["cluster"], f["rule_id"], f["file"]) for f in doc["findings"]}
    assert ("stage", "PXS001", "stage.yaml") in found and ("dev", "PXS008", "dev.yaml") in found
    assert all(f["cluster"] in ("prod", "stage", "dev") for f in doc["findings"])
    assert "PXS003" not in {f["rule_id"] for f in doc["findings"]}  # prod and stage are not one cluster
    together = run_pxsec(["check", "--format", "json", "prod.yaml", "stage.yaml"], cwd=fleet)
    assert "PXS003" in {f["rule_id"] for f in json.loads(together.stdout)["findings"]}  # as one input they are


def test_text_has_one_finding_list_and_summary_per_cluster(fleet):
    r = run_pxsec(["check", *ARGS], cwd=fleet)
    lines = r.stdout.decode().splitlines()
    summaries = [ln for ln in lines if ln.startswith(("cluster ", "3 clusters"))]
    assert summaries == ["cluster prod: 0 errors, 0 warnings, 1 note", "cluster stage: 1 error, 0 warnings, 0 notes",
                         "cluster dev: 1 error, 0 warnings, 1 note", "3 clusters: 2 errors, 0 warnings, 2 notes"]
    stage = lines[lines.index(summaries[0]) + 1:lines.index(summaries[1])]
    assert len(stage) == 1 and stage[0].startswith("stage.yaml:") and " error PXS001 [stage] DaemonSet " in stage[0]


def test_sarif_junit_and_github_name_the_cluster(fleet):
    r = run_pxsec(["check", "--format", "sarif=r.sarif", "--format", "junit=r.xml", "--format", "github", *ARGS],
                  cwd=fleet)
    assert r.returncode == 1, r.stderr
    sarif = json.loads((fleet / "r.sarif").read_text())
    assert sarif_errors(sarif) == [] and len(sarif["runs"]) == 1
    results = sarif["runs"][0]["results"]
    assert {(res["properties"]["cluster"], res["ruleId"]) for res in results if res["level"] == "error"} == {
        ("stage", "PXS001"), ("dev", "PXS008")}
    assert all(res["message"]["text"].split(": ", 1)[1].startswith(f"[{res['properties']['cluster']}] ")
               for res in results)
    xml = (fleet / "r.xml").read_text()
    assert junit_errors(xml) == []
    suites = ET.fromstring(xml).findall("testsuite")
    assert len(suites) == 3 * len({s.get("name").split("] ", 1)[1] for s in suites})
    failed = {(s.find("properties/property[@name='cluster']").get("value"), s.get("name"))
              for s in suites if s.get("failures") != "0"}
    assert failed == {("stage", "[stage] PXS001 security-disabled"), ("dev", "[dev] PXS008 secret-literal")}
    commands = [runner_parse(ln) for ln in r.stdout.decode().splitlines()]
    assert {(c[0], c[1]["file"], re.search(r": \[(\w+)\] ", c[2])[1]) for c in commands if c[0] == "error"} == {
        ("error", "stage.yaml", "stage"), ("error", "dev.yaml", "dev")}
    for path in ("r.sarif", "r.xml"):
        assert SECRET_VALUE not in (fleet / path).read_text()
    assert SECRET_VALUE.encode() not in r.stdout + r.stderr


def test_a_cluster_from_stdin_and_several_files_for_one_cluster(fleet, tmp_path):
    (fleet / "prod-storage.yaml").write_text(kubectl_list(portworx(ns="other", issuer=None, env=[])))
    r = run_pxsec(["check", "--format", "json", "--cluster", "prod=prod.yaml", "--cluster", "prod=prod-storage.yaml",
                   "--cluster", "stage=-"], stdin=(fleet / "stage.yaml").read_bytes(), cwd=fleet)
    doc = json.loads(r.stdout)
    assert [c["name"] for c in doc["clusters"]] == ["prod", "stage"]
    assert {(f["cluster"], f["file"]) for f in doc["findings"] if f["rule_id"] == "PXS001"} == {
        ("prod", "prod-storage.yaml"), ("stage", "<stdin>")}


def test_strict_fails_when_a_cluster_has_no_workload(fleet):
    (fleet / "empty.yaml").write_text(kubectl_list())
    r = run_pxsec(["check", "--strict", "--cluster", "prod=prod.yaml", "--cluster", "qa=empty.yaml"], cwd=fleet)
    assert r.returncode == 1 and "of cluster qa;" in r.stderr.decode()
    assert run_pxsec(["check", "--cluster", "prod=prod.yaml", "--cluster", "qa=empty.yaml"], cwd=fleet).returncode == 0


def test_a_fleet_baseline_follows_the_cluster_not_the_file_name(fleet):
    assert run_pxsec(["check", "--create-baseline", "b.json", *ARGS], cwd=fleet).returncode == 0
    (fleet / "stage.yaml").rename(fleet / "stage-2026-12-04.yaml")  # today's kubectl output
    r = run_pxsec(["check", "--baseline", "b.json", "--cluster", "prod=prod.yaml", "--cluster",
                   "stage=stage-2026-12-04.yaml", "--cluster", "dev.yaml"], cwd=fleet)
    assert r.returncode == 0, r.stdout
    assert r.stdout.decode().splitlines()[-1] == "3 clusters: no findings (not shown: 4 in the baseline)"
    moved = run_pxsec(["check", "--baseline", "b.json", "--cluster", "qa=stage-2026-12-04.yaml"], cwd=fleet)
    assert moved.returncode == 1  # the same objects in another cluster are new there


@pytest.mark.parametrize("args, message", [
    (["--cluster", "-"], "--cluster -: name the cluster"),
    (["--cluster", "prod="], "no path after '='"),
    (["--cluster", "=prod.yaml"], "a cluster name is 1 to 253 printable characters"),
    (["--cluster", "a b=prod.yaml"], "a cluster name is 1 to 253 printable characters"),
    (["--cluster", "a=-", "--cluster", "b=-"], "stdin ('-') can be the input of one cluster only"),
    (["--cluster", "prod=prod.yaml", "stage.yaml"], "either as PATH arguments or with --cluster"),
    (["--cluster", "prod=missing.yaml"], "missing.yaml"),
])
def test_bad_cluster_options_are_usage_errors(fleet, args, message):
    r = run_pxsec(["check", *args], cwd=fleet)
    assert r.returncode == 2 and r.stdout == b""
    err = r.stderr.decode()
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
