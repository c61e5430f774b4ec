"""The rules of `pxsec check`, one small pure function each: Inventory in, findings out.

They live by family: rules_workload (PXS001-003, 008, 021), rules_stork (PXS004-007, 022),
rules_settings (PXS009-018), rules_refused (PXS023-025: what render refuses or cannot see),
rules_storageclass (PXS026-028), rules_tokens (PXS050-055), rules_operator (PXS030-036). None reads files, prints or
looks at secret values (literal secrets are only known to exist). The drift rules
(PXS019/PXS020) need the spec and a render: they live in `drift.py`.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Callable

from . import rules_operator, rules_process, rules_refused, rules_settings as s, rules_stork as st, \
    rules_storageclass, rules_tokens, rules_workload as w
from .inventory import Inventory
from .model import Finding

RULE_FUNCTIONS: tuple[Callable[[Inventory], list[Finding]], ...] = (
    w.security_disabled, w.security_incomplete, w.mixed_cluster, st.stork_missing_shared_secret,
    st.stork_key_mismatch, st.stork_issuer_refused, st.stork_issuer_implicit, w.secret_literal,
    s.pubkey_file_unmounted, s.pubkey_file_on_host, s.oidc_issuer_not_https, s.oidc_client_id_missing,
    s.username_claim_unknown, s.self_signed_without_key, s.self_signed_issuer_url, s.guest_access_enabled,
    s.guest_access_invalid, s.token_lifetime_invalid, w.token_reset_reminder, st.autopilot_missing_shared_secret,
) + rules_refused.RULE_FUNCTIONS + rules_process.RULE_FUNCTIONS + rules_storageclass.RULE_FUNCTIONS \
    + rules_operator.RULE_FUNCTIONS + rules_tokens.RULE_FUNCTIONS


def run(inv: Inventory) -> list[Finding]:
    out = list(inv.errors)
    for fn in RULE_FUNCTIONS:
        out.extend(fn(inv))
    return out


__all__ = ["run", "RULE_FUNCTIONS"]
