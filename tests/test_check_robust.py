"""`pxsec check` never crashes on odd manifests: any shape in any field gives findings or none,
never an exception (a gate that crashes is a gate people switch off)."""
from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from check.manifests import portworx, stork, storagecluster, text
from pxsec import audit

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(
    ["", "x", "Enabled", "24h", "-jwt_issuer", "/etc/pwx/k", "https://a", "$(X)", "PX_SHARED_SECRET",
     "PORTWORX_AUTH_SYSTEM_KEY", "-c", "apps.portworx.io"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(["name", "value", "valueFrom", "secretKeyRef", "key", "env", "args",
                                     "enabled", "auth", "selfSigned", "guestAccess", "tokenLifetime",
                                     "mountPath", "secret", "items", "path", "miscArgs"]), inner, max_size=4)),
    max_leaves=12)

PLACES = [
    ("ds", ("spec", "template", "spec", "containers", 0, "env")),
    ("ds", ("spec", "template", "spec", "containers", 0, "args")),
    ("ds", ("spec", "template", "spec", "containers", 0, "volumeMounts")),
    ("ds", ("spec", "template", "spec", "volumes")),
    ("ds", ("spec", "template", "spec", "containers")),
    ("ds", ("metadata",)),
    ("stork", ("spec", "template", "spec", "containers", 0, "env")),
    ("sc", ("spec", "security")),
    ("sc", ("spec", "security", "auth")),
    ("sc", ("spec", "env")),
    ("sc", ("spec", "nodes")),
    ("sc", ("spec", "stork")),
    ("sc", ("spec", "volumes")),
    ("sc", ("spec",)),
    ("sc", ("metadata", "annotations")),
]


def _put(obj, path, value):
    for p in path[:-1]:
        obj = obj[p]
    obj[path[-1]] = value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(place=st.sampled_from(PLACES), value=values)
def test_any_value_anywhere_gives_findings_not_exceptions(place, value):
    objs = {"ds": portworx(), "stork": stork(), "sc": storagecluster()}
    _put(objs[place[0]], place[1], value)
    src = text(objs["ds"], objs["stork"], objs["sc"])
    report = audit.check([("fuzz.yaml", src)])
    for f in report.findings:
        assert f.line is None or 1 <= f.line <= src.count("\n") + 1


@settings(max_examples=100, deadline=None)
@given(docs=st.lists(values, max_size=4))
def test_arbitrary_documents(docs):
    src = "---\n".join(yaml.safe_dump(d) for d in docs)
    audit.check([("any.yaml", src)])
