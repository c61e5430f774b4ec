"""`pxsec check` PXS023-PXS025: Portworx containers render refuses to secure, and envFrom sources
that bring PX-Security settings or keys into Portworx. Each rule: a manifest with the problem
(field and line pinned) and one without."""
from __future__ import annotations

from check.manifests import check, container, lit, line_of, of, portworx, ref, text
from pxsec import audit

SECRET_VALUE = "envfrom-test-value-0123456789abcdef"  # a test-only value no finding may show


def _findings(*objs, rule):
    src = text(*objs)
    return src, of(audit.check([("in.yaml", src)]).findings, rule)


# PXS023 -------------------------------------------------------------------------------------

def test_shell_wrapped_portworx_is_refused_at_its_command():
    ds = portworx()
    container(ds)["command"] = ["sh", "-c", "exec /px-oci-mon \"$@\"", "--"]
    src, [f] = _findings(ds, rule="PXS023")
    assert (f.severity, f.kind, f.field) == ("error", "DaemonSet", "spec.template.spec.containers[0].command")
    assert f.line == line_of(src, "command:") and "shell" in f.message and "$0" in f.message


def test_init_container_running_portworx_is_refused_at_the_init_container():
    ds = portworx()
    ds["spec"]["template"]["spec"]["initContainers"] = [{"name": "px-init", "image": "portworx/oci-monitor:3.1.0"}]
    src, [f] = _findings(ds, rule="PXS023")
    assert f.field == "spec.template.spec.initContainers[0]"
    assert f.line == line_of(src, "- name: px-init")


def test_portworx_in_a_deployment_is_refused_at_its_kind():
    dep = portworx()
    dep["kind"] = "Deployment"
    src, [f] = _findings(dep, rule="PXS023")
    assert (f.kind, f.field, f.line) == ("Deployment", "kind", line_of(src, "kind: Deployment"))


def test_refusal_inside_a_list_points_at_the_item():
    ds = portworx()
    container(ds)["command"] = ["/bin/bash", "-c", "/px-oci-mon"]
    lst = {"apiVersion": "v1", "kind": "List", "items": [ds]}
    src, [f] = _findings(lst, rule="PXS023")
    assert f.field == "items[0].spec.template.spec.containers[0].command" and f.line == line_of(src, "command:")


def test_plain_portworx_and_a_shell_sidecar_are_not_refused():
    ds = portworx()
    container(ds)["command"] = ["/px-oci-mon"]
    ds["spec"]["template"]["spec"]["containers"].append({"name": "helper", "image": "busybox",
                                                          "command": ["sh", "-c", "sleep inf"]})
    assert of(check(ds), "PXS023") == []


# PXS024 / PXS025 ----------------------------------------------------------------------------

def _source(kind: str, name: str, data: dict, ns: str | None = "kube-system") -> dict:
    meta = {"name": name, **({"namespace": ns} if ns else {})}
    return {"apiVersion": "v1", "kind": kind, "metadata": meta,
            ("stringData" if kind == "Secret" else "data"): data}


def _reading(*sources, prefix: str | None = None, env=None) -> dict:
    ds = portworx(env=env)
    refs = []
    for kind, name in sources:
        entry = {("configMapRef" if kind == "ConfigMap" else "secretRef"): {"name": name}}
        if prefix:
            entry["prefix"] = prefix
        refs.append(entry)
    container(ds)["envFrom"] = refs
    return ds


def test_a_flag_twin_from_an_in_stream_configmap_is_an_error_at_the_envfrom_entry():
    cm = _source("ConfigMap", "px-env", {"PORTWORX_AUTH_OIDC_ISSUER": "https://evil.example.com", "OTHER": "x"})
    src, [f] = _findings(_reading(("ConfigMap", "px-env")), cm, rule="PXS024")
    assert (f.severity, f.field) == ("error", "spec.template.spec.containers[0].envFrom[0]")
    assert f.line == line_of(src, "envFrom:") + 1
    assert "ConfigMap px-env" in f.message and "PORTWORX_AUTH_OIDC_ISSUER" in f.message and "evil" not in f.message


def test_a_prefix_makes_the_twin():
    cm = _source("ConfigMap", "px-prefixed", {"USERNAME_CLAIM": "email"})
    _, [f] = _findings(_reading(("ConfigMap", "px-prefixed"), prefix="PORTWORX_AUTH_"), cm, rule="PXS024")
    assert "PORTWORX_AUTH_USERNAME_CLAIM" in f.message and "USERNAME_CLAIM" in f.message


def test_a_key_the_container_does_not_set_is_an_error_one_it_sets_is_not():
    secret = _source("Secret", "px-more", {"PORTWORX_AUTH_SYSTEM_APPS_KEY": SECRET_VALUE,
                                           "PORTWORX_AUTH_SYSTEM_KEY": SECRET_VALUE})
    src, found = _findings(_reading(("Secret", "px-more")), secret, rule="PXS024")
    assert [("PORTWORX_AUTH_SYSTEM_APPS_KEY" in f.message) for f in found] == [True]  # SYSTEM_KEY is set in env
    assert SECRET_VALUE not in repr(audit.check([("in.yaml", src)]).findings)


def test_a_key_in_a_configmap_is_an_error_even_when_the_container_sets_it():
    cm = _source("ConfigMap", "px-keys", {"PORTWORX_AUTH_SYSTEM_KEY": SECRET_VALUE})
    _, [f] = _findings(_reading(("ConfigMap", "px-keys")), cm, rule="PXS024")
    assert "a key in a ConfigMap" in f.message and SECRET_VALUE not in f.message


def test_sources_without_security_keys_are_fine():
    cm = _source("ConfigMap", "px-tuning", {"PX_LOGLEVEL": "debug"})
    secret = _source("Secret", "px-more", {"PORTWORX_AUTH_SYSTEM_KEY": SECRET_VALUE})
    found = check(_reading(("ConfigMap", "px-tuning"), ("Secret", "px-more")), cm, secret)
    assert of(found, "PXS024") == [] and of(found, "PXS025") == []


def test_a_source_not_in_the_stream_is_a_note_naming_it():
    cm = _source("ConfigMap", "px-env", {"PORTWORX_AUTH_OIDC_ISSUER": "x"}, ns="elsewhere")  # another namespace
    src, found = _findings(_reading(("Secret", "px-absent"), ("ConfigMap", "px-env")), cm, rule="PXS025")
    f = found[0]
    assert f.field == "spec.template.spec.containers[0].envFrom[0]" and f.severity == "note"
    assert "Secret px-absent" in f.message and f.line == line_of(src, "envFrom:") + 1
    assert [g.field for g in found] == [
        "spec.template.spec.containers[0].envFrom[0]", "spec.template.spec.containers[0].envFrom[1]"]


def test_envfrom_on_a_sidecar_is_not_portworx_business():
    ds = portworx()
    ds["spec"]["template"]["spec"]["containers"].append(
        {"name": "helper", "image": "busybox", "envFrom": [{"configMapRef": {"name": "absent"}}],
         "env": [lit("X", "y"), ref("Y")]})
    found = check(ds)
    assert of(found, "PXS024") == [] and of(found, "PXS025") == []
