"""The process the kubelet starts (PXS037, PXS039): proof.judge on process.py's model, the same
judgment render applies to its own output, so check and render never disagree about what runs.

Each Portworx, Stork, autopilot and StorageCluster object is turned into the containers that would
run (envFrom sources resolved against the ConfigMaps and Secrets of the input), and every problem
proof.judge finds becomes a finding at its field. PXS023 (the shapes render refuses) stays with
rules_refused, which reports the same `portworx.refusal`.
"""
from __future__ import annotations

from .. import portworx as px, process, proof
from .inventory import Inventory
from .model import Finding

JUDGED = (px.PORTWORX, px.STORK, px.AUTOPILOT, px.STORAGECLUSTER)


def process_problems(inv: Inventory) -> list[Finding]:
    objs = [o for o in inv.objects if o.role in JUDGED]
    if not objs:
        return []
    srcs = inv.sources
    out = []
    for o in objs:
        for problem in proof.judge(o.data, list(process.processes(o.data, srcs))):
            if problem.rule != proof.REFUSED and not problem.literal:  # PXS023, PXS008 report those
                out.append(o.at(problem.rule, problem.path, problem.message))
    return out


RULE_FUNCTIONS = (process_problems,)
