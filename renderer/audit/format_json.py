"""Machine-readable report: one JSON object, findings in a stable order, keys always present.

    {"tool": {"name": "pxsec", "version": "..."}, "schemaVersion": 1,
     "summary": {"error": 1, "warning": 0, "note": 2, "driftChecked": false, "workloads": 3,
                 "ignored": 0, "belowMinSeverity": 0, "baselined": 0},
     "clusters": [],
     "findings": [{"rule_id": "PXS001", "severity": "error", "message": ..., "file": ..., "index": 5,
                   "kind": "DaemonSet", "name": "portworx", "namespace": "kube-system",
                   "field": "spec.template.spec.containers[0]", "line": 342, "column": 11,
                   "cluster": null}]}

`ignored` counts findings of rules ignored by --ignore, the config file or a `pxsec.io/ignore`
annotation; `belowMinSeverity` those left out by --min-severity / --quiet; `baselined` those the
--baseline file covers. None of them is listed. A fleet audit (`--cluster NAME=PATH`) lists each
cluster with its own summary in `clusters` (`[{"name": "prod", "summary": {...}}]`, command-line
order) and names the cluster in each finding's `cluster`; otherwise `clusters` is empty and
`cluster` null.
"""
from __future__ import annotations

import json

from .. import __version__
from .model import SEVERITIES, Report

SCHEMA_VERSION = 1


def summary(report: Report) -> dict:
    counts = {s: report.count(s) for s in SEVERITIES}
    counts.update(driftChecked=report.drift_checked, workloads=report.checked, ignored=report.ignored,
                  belowMinSeverity=report.hidden, baselined=report.baselined)
    return counts


def to_dict(report: Report) -> dict:
    return {"tool": {"name": "pxsec", "version": __version__}, "schemaVersion": SCHEMA_VERSION,
            "summary": summary(report),
            "clusters": [{"name": name, "summary": summary(part)} for name, part in report.clusters.items()],
            "findings": [f.to_dict() for f in report.findings]}


def render(report: Report) -> str:
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False) + "\n"
