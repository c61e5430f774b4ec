"""`pxsec check`: audit manifests for what would leave a cluster without (full) PX-Security.

    sources -> parse (per file; a file that does not parse is a PXS000 finding)
            -> inventory (profiles of Portworx, Stork, autopilot; every env list)
            -> rules (pure, one function per rule)  [+ drift against `render` with --spec]
            -> ignore (rules ignored for the run, or per object by annotation; see ignore.py)
            -> Report (sorted, de-duplicated findings) -> text | json | sarif

Nothing here reads the environment or prints; values of secrets are never read into a finding.
"""
from __future__ import annotations

from ..spec import Spec
from . import drift, ignore as ignoremod, inventory, rules
from .model import RULES, Finding, Report, Rule

__all__ = ["check", "Finding", "Report", "Rule", "RULES"]


def check(sources: list[tuple[str, str]], spec: Spec | None = None, ignore: frozenset[str] = frozenset()) -> Report:
    """Audit `sources`; `ignore` holds rule ids to leave out of the report (they are counted)."""
    docs, errors = inventory.parse_sources(sources)
    inv = inventory.build(docs)
    if spec is not None and spec.storage_classes is not None:
        inv.left_out_storageclasses = inventory.left_out(inv, spec.storage_classes)
    if spec is not None and spec.tokens is not None:
        from .rules_tokens import left_out_tokens
        inv.left_out_tokens = left_out_tokens(inv, spec.tokens)
    inv.errors = errors + inv.errors
    found = rules.run(inv)
    drift_checked = False
    if spec is not None and not errors:
        found += drift.check(sources, docs, spec)
        drift_checked = True
    unique = sorted(dict.fromkeys(found), key=Finding.sort_key)
    by_object, notices = ignoremod.annotations(docs)
    kept, ignored = ignoremod.apply(unique, set(ignore), by_object)
    return Report(kept, checked=inv.workloads(), drift_checked=drift_checked, ignored=ignored, notices=notices)
