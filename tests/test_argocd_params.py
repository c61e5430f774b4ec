"""Argo CD per-cluster parameters (renderer/spec/argocd_params.py): reading ARGOCD_APP_PARAMETERS and
PARAM_*, as argo-cd writes them (pkg/apis/application/v1alpha1 types.go
`ApplicationSourcePluginParameters.Environ`: the JSON list of {name, string|map|array}, and
PARAM_ + `escaped(name)`: upper case, [^A-Z0-9_] -> _), and writing them over the spec.
The real cmp-server path is tests/e2e/test_argocd.py."""
from __future__ import annotations

import json

import pytest
import yaml

from conftest import ROOT, run_pxsec
from pxsec import spec as specmod
from pxsec.spec import argocd_params as ap
from pxsec.errors import PxsecError

SPEC = str(ROOT / "tests" / "cases" / "storagecluster-oidc-misc-args" / "spec.yaml")
EXAMPLE = ROOT / "examples" / "portworx.yaml"


def _json(*items) -> dict:
    return {ap.JSON_ENV: json.dumps(list(items))}


def test_env_names_are_argocds():
    assert ap.env_name("oidc.clientId") == "PARAM_OIDC_CLIENTID"
    assert ap.env_name("storageClasses.tokenSecret.namespace") == "PARAM_STORAGECLASSES_TOKENSECRET_NAMESPACE"


def test_read_json_in_order_skipping_empty_values():
    env = _json({"name": "oidc.clientId", "string": "a"}, {"name": "oidc.issuer", "string": ""},
                {"name": "secret.name", "string": "k"})
    assert ap.read(env) == [("oidc.clientId", "a"), ("secret.name", "k")]
    assert ap.read({ap.JSON_ENV: "null"}) == [] and ap.read({ap.JSON_ENV: "[]"}) == []  # no parameters


@pytest.mark.parametrize("raw,needle", [
    ("{", "not valid JSON"), ('{"name": "x"}', "expected a JSON list"), ('[{"string": "x"}]', "without a name"),
    ('[{"name": "oidc.isuer", "string": "x"}]', "did you mean oidc.issuer?"),
    ('[{"name": "oidc.issuer", "array": ["a"]}]', "takes a string"),
    ('[{"name": "oidc.issuer", "string": "a", "map": {}}]', "takes a string"),
])
def test_read_refuses_what_is_not_a_string_parameter_pxsec_knows(raw, needle):
    with pytest.raises(PxsecError) as e:
        ap.read({ap.JSON_ENV: raw})
    assert needle in str(e.value) and str(e.value).startswith(ap.JSON_ENV)


def test_param_variables_only_under_argocd():
    env = {"PARAM_OIDC_ISSUER": "https://x.example.com"}
    assert ap.read(env) == []  # a stray PARAM_ variable in a CI job changes nothing
    assert ap.read(dict(env, ARGOCD_APP_NAME="px")) == [("oidc.issuer", "https://x.example.com")]
    # the JSON, when there, is the whole truth
    assert ap.read(dict(env, ARGOCD_APP_NAME="px", **_json())) == []


def test_overlay_writes_fields_and_creates_sections():
    doc = {"apiVersion": "pxsec.io/v1alpha1", "kind": "PortworxSecurity", "metadata": {"name": "x"},
           "spec": {"oidc": {"issuer": "https://a.example.com", "clientId": "c"}}}
    out = ap.overlay(doc, [("oidc.issuer", "https://b.example.com"), ("storageClasses.tokenSecret.namespace", "ns")])
    assert out["spec"]["oidc"] == {"issuer": "https://b.example.com", "clientId": "c"}
    assert out["spec"]["storageClasses"] == {"tokenSecret": {"namespace": "ns"}}
    assert doc["spec"]["oidc"]["issuer"] == "https://a.example.com"  # the parsed spec is not changed


def test_resolve_spec_applies_parameters():
    plain = specmod.resolve_spec(SPEC, environ={})
    assert plain == specmod.load(SPEC)
    got = specmod.resolve_spec(SPEC, environ=_json({"name": "oidc.issuer", "string": "https://b.example.com"},
                                                   {"name": "usernameClaim", "string": "name"}))
    assert got.oidc.issuer == "https://b.example.com" and got.username_claim == "name"
    assert got.oidc.client_id == plain.oidc.client_id


def test_a_parameter_that_breaks_the_spec_is_one_line_naming_the_field_and_nothing_is_written():
    r = run_pxsec(["render", "--spec", SPEC], stdin=EXAMPLE.read_bytes(),
                  env=_json({"name": "oidc.issuer", "string": "http://insecure.example.com"}))
    err = r.stderr.decode()
    assert r.returncode == 1 and r.stdout == b"" and err.count("\n") == 1
    assert "(Argo CD parameters: oidc.issuer): spec.oidc.issuer:" in err


def test_render_with_parameters_equals_render_with_the_edited_spec(tmp_path):
    doc = yaml.safe_load(open(SPEC))
    doc["spec"]["oidc"]["issuer"] = "https://b.example.com"
    edited = tmp_path / "spec.yaml"
    edited.write_text(yaml.safe_dump(doc))
    a = run_pxsec(["render", "--spec", SPEC], stdin=EXAMPLE.read_bytes(),
                  env=_json({"name": "oidc.issuer", "string": "https://b.example.com"}))
    b = run_pxsec(["render", "--spec", str(edited)], stdin=EXAMPLE.read_bytes())
    assert a.returncode == b.returncode == 0 and a.stdout == b.stdout and b"https://b.example.com" in a.stdout


def test_plugin_yaml_announces_exactly_these_parameters():
    plugin = yaml.safe_load((ROOT / "argocd" / "plugin.yaml").read_text())
    static = plugin["spec"]["parameters"]["static"]
    assert [(p["name"], p["title"]) for p in static] == list(ap.PARAMETERS.items())
    assert all(p["itemType"] == p["collectionType"] == "string" for p in static)
