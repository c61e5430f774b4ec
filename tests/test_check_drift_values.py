"""Drift (PXS019) says what render expects and what the manifest has, never a secret value."""
from __future__ import annotations

import json

import pytest
import yaml

from check.manifests import container, lit, of, portworx, ref, stork, text
from conftest import ROOT, run_pxsec
from pxsec import audit
from pxsec.render import redact
from pxsec import spec as specmod

SPEC = ROOT / "examples" / "spec.yaml"
SECRET_VALUE = "drift-literal-secret-never-printed-0123456789"


def drift(*objs) -> list[str]:
    report = audit.check([("in.yaml", text(*objs))], specmod.load(str(SPEC)))
    return [f.message for f in of(report.findings, "PXS019")]


def secured():
    """What render makes of the examples' spec: no drift at all."""
    env = [ref("PORTWORX_AUTH_SYSTEM_KEY", "pxsec-auth-keys", "system-secret"),
           ref("PORTWORX_AUTH_JWT_SHAREDSECRET", "pxsec-auth-keys", "shared-secret"),
           ref("PORTWORX_AUTH_STORK_KEY", "pxsec-auth-keys", "stork-secret")]
    ds = portworx(extra_args=["-username_claim", "email"], env=env)
    st = stork(env=[ref("PX_SHARED_SECRET", "pxsec-auth-keys", "stork-secret"),
                    lit("PX_JWT_ISSUER", "stork.openstorage.io")])
    return ds, st


def test_the_baseline_has_no_drift():
    assert drift(*secured()) == []


def test_a_changed_value_shows_expected_and_found():
    ds, st = secured()
    container(st)["env"][1] = lit("PX_JWT_ISSUER", "apps.portworx.io")
    [msg] = drift(ds, st)
    assert msg == 'differs from the rendered output: expected "stork.openstorage.io", found "apps.portworx.io"'


def test_a_changed_secret_ref_shows_both_refs():
    ds, st = secured()
    container(ds)["env"][0] = ref("PORTWORX_AUTH_SYSTEM_KEY", "pxsec-auth-keys", "old-key")
    [msg] = drift(ds, st)
    assert msg == 'differs from the rendered output: expected "system-secret", found "old-key"'


def test_args_show_what_render_adds_and_removes():
    ds, st = secured()
    container(ds)["args"] = ["-c", "px-cluster", "-a", "-x", "kubernetes", "-jwt_issuer", "other.io",
                             "-username_claim", "email"]
    [msg] = drift(ds, st)
    assert msg.startswith('differs from the rendered output: render adds "openstorage.io" and removes "other.io" '
                          '(expected ["-c", ')
    assert '"-jwt_issuer", "other.io"' in msg


def test_a_missing_entry_shows_what_render_would_add():
    ds, st = secured()
    del container(st)["env"][0]
    [msg] = drift(ds, st)
    assert msg == ("no env entry 'PX_SHARED_SECRET': render would add {\"name\": \"PX_SHARED_SECRET\", "
                   "\"valueFrom\": {\"secretKeyRef\": {\"name\": \"pxsec-auth-keys\", \"key\": \"stork-secret\"}}}")


def test_a_literal_secret_is_shown_as_literal_value_never_as_itself(tmp_path):
    ds, st = secured()
    container(ds)["env"][1] = lit("PORTWORX_AUTH_JWT_SHAREDSECRET", SECRET_VALUE)
    container(ds)["args"] += ["-jwt_shared_secret", SECRET_VALUE + "-arg", f"-auth_system_key={SECRET_VALUE}-eq"]
    container(st)["env"][0] = lit("PX_SHARED_SECRET", SECRET_VALUE + "-stork")
    msgs = drift(ds, st)
    assert 'not in the rendered output: render would remove it (found <literal value>)' in msgs
    [args] = [m for m in msgs if "-jwt_shared_secret" in m]
    assert 'removes "-jwt_shared_secret" "<literal value>" "-auth_system_key=<literal value>"' in args
    assert not any(SECRET_VALUE in m for m in msgs)
    path = tmp_path / "leak.yaml"
    path.write_text(text(ds, st))
    for fmt in ("text", "json", "sarif", "junit", "github"):
        r = run_pxsec(["check", "--spec", str(SPEC), "--format", fmt, str(path)])
        assert r.returncode == 1 and b"PXS019" in r.stdout
        assert SECRET_VALUE.encode() not in r.stdout + r.stderr, fmt
        assert (b"&lt;literal value&gt;" if fmt == "junit" else b"<literal value>") in r.stdout  # XML-escaped


def test_a_long_value_is_shortened():
    ds, st = secured()
    container(st)["env"][1] = lit("PX_JWT_ISSUER", "x" * 500)
    [msg] = drift(ds, st)
    assert len(msg) < 260 and msg.endswith('found "' + "x" * (160 - 4) + "...")


def test_generated_secret_values_are_never_shown(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"apiVersion": "pxsec.io/v1alpha1", "kind": "PortworxSecurity", "spec": {
        "secret": {"name": "pxkeys", "create": True},
        "selfSigned": {"issuer": "openstorage.io", "sharedSecret": True}}}))
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pxkeys", "namespace": "kube-system",
                                                                  "annotations": {"pxsec.io/generated": "true"}},
              "type": "Opaque", "data": {"system-secret": "c2VjcmV0LXZhbHVlLW5ldmVyLXByaW50ZWQ="}}
    report = audit.check([("in.yaml", text(portworx(), secret))], specmod.load(str(spec)))
    msgs = [f.message for f in of(report.findings, "PXS019")]
    assert msgs and not any("c2VjcmV0" in m for m in msgs)


@pytest.mark.parametrize("root, path, found, shown", [
    ({"env": [{"name": "PX_SHARED_SECRET", "value": "s"}]}, ("env", 0, "value"), "s", redact.LITERAL),
    ({"env": [{"name": "DB_PASSWORD", "value": "s"}]}, ("env", 0, "value"), "s", redact.LITERAL),
    ({"env": [{"name": "PX_JWT_ISSUER", "value": "x"}]}, ("env", 0, "value"), "x", "x"),
    ({"args": ["-jwt_shared_secret", "s"]}, ("args", 1), "s", redact.LITERAL),
    ({"kind": "ConfigMap", "data": {"PX_SHARED_SECRET": "s"}}, ("data", "PX_SHARED_SECRET"), "s", redact.LITERAL),
    ({"kind": "ConfigMap", "data": {"PX_SHARED_SECRET": "s"}}, ("data",), {"PX_SHARED_SECRET": "s"},
     {"PX_SHARED_SECRET": redact.LITERAL}),
    ({"kind": "Secret", "data": {"k": "s"}}, ("data", "k"), "s", redact.LITERAL),
    ({"kind": "Secret", "stringData": {"k": "s"}}, ("stringData",), {"k": "s"}, {"k": redact.LITERAL}),
    ({"m": "-a -jwt_shared_secret s -b"}, ("m",), "-a -jwt_shared_secret s -b", "-a -jwt_shared_secret <literal value> -b"),
])
def test_value_at_masks_by_context(root, path, found, shown):
    assert redact.value_at(root, path, found) == shown


def test_json_findings_carry_the_values_for_tools():
    ds, st = secured()
    container(st)["env"][1] = lit("PX_JWT_ISSUER", "apps.portworx.io")
    report = audit.check([("in.yaml", text(ds, st))], specmod.load(str(SPEC)))
    from pxsec.audit import format_json
    [f] = [f for f in json.loads(format_json.render(report))["findings"] if f["rule_id"] == "PXS019"]
    assert "apps.portworx.io" in f["message"] and f["field"].endswith("env[1].value")


def test_expected_values_are_masked_in_the_rendered_object_by_their_own_path():
    from pxsec.audit import drift

    a = {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "x"}]}
    b = {"env": [{"name": "PX_SHARED_SECRET", "value": "s"}, {"name": "B", "value": "y"},
                 {"name": "A", "value": "2"}]}
    diffs = {(d[0], d[5]) for d in drift.diff(a, b) if d[1] == "changed"}
    assert diffs == {(("env", 0, "value"), ("env", 2, "value")), (("env", 1, "value"), ("env", 1, "value"))}
    added = [d for d in drift.diff(a, b) if d[1] == "added"]
    assert [(d[2], redact.value_at(b, d[5], d[4])) for d in added] == [
        ("PX_SHARED_SECRET", {"name": "PX_SHARED_SECRET", "value": redact.LITERAL})]


def _state(doc) -> tuple:
    """Everything a Document holds: its slots and its instance dictionary."""
    slots = tuple(getattr(doc, s, None) for s in type(doc).__slots__ if s != "__dict__")
    return slots, dict(doc.__dict__)


def _case_envfrom_edit():
    """render's envFrom filter composes and edits a ConfigMap check passed over (the DaemonSet
    reads it with a prefix, so its text never says PORTWORX_AUTH_)."""
    ds, st = secured()
    container(ds)["envFrom"] = [{"prefix": "PORTWORX_", "configMapRef": {"name": "px-env"}}]
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "px-env", "namespace": "kube-system"},
          "data": {"AUTH_SYSTEM_KEY": "x", "OTHER": "y"}}
    other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "unrelated"}, "data": {"a": "b"}}
    return text(ds, st, cm, other), False, [2, 3], [("PXS019", 2)]


def _case_missing_secret_anchor():
    """A missing generated Secret is placed at a secured workload of its namespace: a Deployment
    render composed (its text names the ConfigMap the DaemonSet reads) is not one (review: the
    finding landed on `web`, where an ignore annotation could hide it)."""
    ds, st = secured()
    container(ds)["envFrom"] = [{"configMapRef": {"name": "px-env"}}]
    st["metadata"]["namespace"] = "tools"
    web = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": "tools", "labels": {"cfg": "px-env"}},
           "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}
    return text(ds, web, st), True, [1], [("PXS019", 0), ("PXS019", 2)]


def _case_refused():
    """render refuses a ConfigMap it composed: PXS020 is placed as check read the document."""
    ds, st = secured()
    container(ds)["envFrom"] = [{"configMapRef": {"name": "px-env"}}]
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: px-env\n  namespace: kube-system\ndata:\n  ? [a, b]\n  : c\n"
    return text(ds, st) + "---\n" + cm, False, [2], [("PXS020", 2)]


@pytest.mark.parametrize("case", [_case_envfrom_edit, _case_missing_secret_anchor, _case_refused],
                         ids=lambda c: c.__name__[6:])
def test_drift_gives_back_every_document_as_check_read_it(case, tmp_path, monkeypatch):
    """drift.check hands render the documents check passed over as they are (not a copy each: a
    long stream is nearly all such documents) and puts each back. Render reaches one in each
    case; afterwards every document is as it was (slots and dict), and the findings, their
    places and lines included, are those of a render given a copy of everything."""
    from pxsec.audit import drift
    from pxsec.render import pipeline
    from pxsec.render.stream import Stream

    stream_text, create, passed_over, want = case()
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(SPEC.read_text().replace("create: false", "create: true") if create else SPEC.read_text())
    spec = specmod.load(str(spec_path))
    sources = [("in.yaml", stream_text)]

    def read():
        return Stream.from_sources(sources, None, pipeline.worth_composing(None), syntax=True).documents

    docs = read()
    assert [d.index for d in docs if drift._passed_over(d)] == passed_over  # the case is about them
    before = [_state(d) for d in docs]
    found = drift.check(sources, docs, spec)
    assert [_state(d) for d in docs] == before
    monkeypatch.setattr(drift, "_passed_over", lambda d: False)  # every document copied, as drift first did
    assert drift.check(sources, read(), spec) == found
    assert [(f.rule_id, f.index) for f in found] == want, found  # render did reach the shared documents
