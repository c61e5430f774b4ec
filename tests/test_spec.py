"""The spec loader: defaults, typed values, and the validation cache."""
from __future__ import annotations

import pytest
import yaml

from conftest import ROOT, run_pxsec
from pxsec import spec as specmod

MINIMAL = {"apiVersion": "pxsec.io/v1alpha1", "kind": "PortworxSecurity",
           "spec": {"selfSigned": {"issuer": "openstorage.io", "sharedSecret": True}}}


def test_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("PXSEC_CACHE_DIR", str(tmp_path))
    s = specmod.from_document(MINIMAL, "m")
    assert (s.secret_name, s.key_system, s.key_stork, s.key_jwt_shared_secret) == \
        ("pxsec-auth-keys", "system-secret", "stork-secret", "shared-secret")
    assert s.stork_enabled and s.stork_issuer == "stork.openstorage.io" and not s.stork_issuer_explicit
    assert s.stork_key_env == "PORTWORX_AUTH_STORK_KEY" and s.uses_shared_secret
    assert s.oidc is None and s.username_claim is None and not s.secret_create


def test_apps_issuer_pairs_with_apps_key(monkeypatch, tmp_path):
    monkeypatch.setenv("PXSEC_CACHE_DIR", str(tmp_path))
    doc = yaml.safe_load(yaml.safe_dump(MINIMAL))
    doc["spec"]["stork"] = {"issuer": "apps.portworx.io"}
    assert specmod.from_document(doc, "m").stork_key_env == "PORTWORX_AUTH_SYSTEM_APPS_KEY"


def test_example_spec_is_valid():
    assert specmod.load_problems(str(ROOT / "examples" / "spec.yaml")) == []


def test_validation_cache_records_only_successes(tmp_path):
    cache = tmp_path / "cache"
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(MINIMAL))
    env = {"PXSEC_CACHE_DIR": str(cache)}
    assert run_pxsec(["render", "-s", str(good)], env=env).returncode == 0
    markers = list((cache / "validated").iterdir())
    assert len(markers) == 1
    # a different (invalid) spec is validated, not waved through by the cached success
    bad = tmp_path / "bad.yaml"
    doc = yaml.safe_load(yaml.safe_dump(MINIMAL))
    doc["spec"]["selfSigned"]["sharedSecret"] = False
    bad.write_text(yaml.safe_dump(doc))
    r = run_pxsec(["render", "-s", str(bad)], env=env)
    assert r.returncode == 1 and b"spec.selfSigned: needs at least one of" in r.stderr
    assert len(list((cache / "validated").iterdir())) == 1
    # the cached spec still renders, and PXSEC_NO_CACHE=1 validates without writing
    assert run_pxsec(["render", "-s", str(good)], env=env).returncode == 0
    other = tmp_path / "other"
    assert run_pxsec(["render", "-s", str(good)], env={"PXSEC_CACHE_DIR": str(other), "PXSEC_NO_CACHE": "1"}).returncode == 0
    assert not other.exists()


def test_unwritable_cache_is_not_an_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(MINIMAL))
    r = run_pxsec(["render", "-s", str(spec)], env={"PXSEC_CACHE_DIR": str(blocker / "sub")})
    assert (r.returncode, r.stderr) == (0, b"")


# --- strings: no newline or control character anywhere (Python's `$` matches before a final \n) --

def string_fields():
    """(path, a valid value) for every string the spec can hold."""
    return [
        (("metadata", "name"), "px-security"), (("metadata", "namespace"), "kube-system"),
        (("metadata", "labels", "a"), "b"), (("metadata", "annotations", "a"), "b"),
        (("spec", "secret", "name"), "px-system-secrets"), (("spec", "secret", "keys", "system"), "system-secret"),
        (("spec", "secret", "keys", "stork"), "stork-secret"),
        (("spec", "secret", "keys", "jwtSharedSecret"), "shared-secret"),
        (("spec", "selfSigned", "issuer"), "openstorage.io"),
        (("spec", "selfSigned", "rsaPublicKey", "secretName"), "px-jwt-keys"),
        (("spec", "selfSigned", "rsaPublicKey", "key"), "rsa.pub"),
        (("spec", "oidc", "issuer"), "https://accounts.example.com"), (("spec", "oidc", "clientId"), "px"),
        (("spec", "oidc", "customClaimNamespace"), "https://example.com/"),
        (("spec", "tokenLifetime"), "24h"), (("spec", "guestAccess"), "Disabled"),
        (("spec", "usernameClaim"), "email"), (("spec", "stork", "issuer"), "stork.openstorage.io"),
    ]


def with_value(path, value):
    doc = yaml.safe_load(yaml.safe_dump(MINIMAL))
    if path[:2] == ("spec", "oidc"):
        doc["spec"]["oidc"] = {"issuer": "https://accounts.example.com", "clientId": "px"}
    node = doc
    for k in path[:-1]:
        node = node.setdefault(k, {})
    node[path[-1]] = value
    if path[:3] == ("spec", "selfSigned", "rsaPublicKey"):
        node.setdefault("secretName" if path[-1] == "key" else "key", "x" if path[-1] == "key" else "rsa.pub")
    return doc


# annotation values are free text, where a newline is fine: test_annotation_values_may_be_multi_line_text
@pytest.mark.parametrize("path, value, bad", [
    pytest.param(path, value, bad, id=f"{'.'.join(path)}-{bad!r}")
    for path, value in string_fields() for bad in ("\n", "\r\n", "\x00", "\x1b", "\x85", "\u2028")
    if not (path[:2] == ("metadata", "annotations") and bad == "\n")])
def test_every_spec_string_refuses_control_characters_and_names_the_field(path, value, bad):
    assert specmod.problems(with_value(path, value)) == []  # control: the value itself is fine
    found = specmod.problems(with_value(path, value + bad))
    field = ".".join(path)
    assert found and found[0].path == field, found
    assert "must not hold" in found[0].message and repr(bad)[1:-1] not in found[0].message


def test_trailing_newline_refused_by_render_naming_the_field(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text('apiVersion: pxsec.io/v1alpha1\nkind: PortworxSecurity\nspec:\n'
                    '  selfSigned: {issuer: "openstorage.io\\n", sharedSecret: true}\n')
    r = run_pxsec(["render", "-s", str(spec)], env={"PXSEC_CACHE_DIR": str(tmp_path / "c")})
    assert r.returncode == 1 and r.stdout == b""
    assert r.stderr.decode() == (f"pxsec: error: {spec}: spec.selfSigned.issuer: the value contains a newline, "
                                 f"which a spec string must not hold\n")


def test_control_character_in_a_field_name_is_refused():
    doc = with_value(("metadata", "labels", "a\nb"), "c")
    assert [p.path for p in specmod.problems(doc)] == ["metadata.labels.a\nb"]


def test_schema_stays_usable_by_editors():
    """Draft 2020-12, and ECMA-262 regexes only (what editors' JSON Schema engines run):
    no Python-only syntax such as \\Z, \\A or (?P<...>)."""
    import json
    import re

    from jsonschema import Draft202012Validator

    text = (ROOT / "schemas" / "portworxsecurity.schema.json").read_text()
    Draft202012Validator.check_schema(json.loads(text))
    patterns = re.findall(r'"pattern": "((?:[^"\\]|\\.)*)"', text)
    assert len(patterns) >= 6
    for p in patterns:
        assert not re.search(r"\\\\[AZz]|\(\?P|\(\?<[a-z]", p), p


# --- the validation cache: keyed on the bytes, one-to-one ----------------------------------------

def test_cache_does_not_confuse_a_binary_value_with_its_repr(tmp_path):
    """`!!binary` bytes and the string "b'...'" made the same key (json.dumps(default=repr)): an
    invalid spec rendered after a valid one."""
    env = {"PXSEC_CACHE_DIR": str(tmp_path / "cache")}
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    body = "kind: PortworxSecurity\napiVersion: pxsec.io/v1alpha1\nspec:\n  selfSigned: {issuer: openstorage.io, sharedSecret: true}\n"
    good.write_text("metadata: {name: \"b'px'\"}\n" + body)
    bad.write_text("metadata: {name: !!binary cHg=}\n" + body)
    assert run_pxsec(["render", "-s", str(good)], env=env).returncode == 0
    r = run_pxsec(["render", "-s", str(bad)], env=env)
    assert r.returncode == 1 and b"metadata.name: must be of type string" in r.stderr, r.stderr


def test_cache_key_is_one_to_one_on_its_parts():
    key = specmod.cache_key
    assert key("1", b"ab", b"c") != key("1", b"a", b"bc") != key("1a", b"b", b"c")
    assert key("1", b"s", b"x") == key("1", b"s", b"x")
    assert len({key(v, s, d) for v in ("0.1.0", "0.1.1") for s in (b"{}", b"{ }") for d in (b"a", b"a ")}) == 8


def test_cache_is_keyed_on_the_file_bytes(tmp_path):
    env = {"PXSEC_CACHE_DIR": str(tmp_path / "cache")}
    a = tmp_path / "a.yaml"
    a.write_text(yaml.safe_dump(MINIMAL))
    assert run_pxsec(["render", "-s", str(a)], env=env).returncode == 0
    (marker,) = (tmp_path / "cache" / "validated").iterdir()
    from pxsec import __version__

    assert marker.name == specmod.cache_key(
        __version__, (ROOT / "schemas" / "portworxsecurity.schema.json").read_bytes(), b"file:" + a.read_bytes())


# --- documents and sizes ---------------------------------------------------------------------------

@pytest.mark.parametrize("tail", ["---\n", "---", "--- \n", "---\n...\n", "\n---\n\n"])
def test_a_spec_file_ending_in_a_document_marker_is_one_document(tmp_path, tail):
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(MINIMAL) + tail)
    r = run_pxsec(["render", "-s", str(spec)], env={"PXSEC_CACHE_DIR": str(tmp_path / "c")})
    assert (r.returncode, r.stderr) == (0, b"")


def test_two_real_documents_are_still_refused(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(MINIMAL) + "---\n" + yaml.safe_dump(MINIMAL))
    r = run_pxsec(["render", "-s", str(spec)])
    assert r.returncode == 1 and b"expected one PortworxSecurity document, found 2" in r.stderr


def test_a_big_spec_is_told_the_limit_not_called_an_alias_bomb(tmp_path):
    doc = yaml.safe_load(yaml.safe_dump(MINIMAL))
    doc["metadata"] = {"name": "x", "labels": {f"l{i}": "v" for i in range(specmod.MAX_SPEC_NODES + 10)}}
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(doc))
    r = run_pxsec(["render", "-s", str(spec)])
    err = r.stderr.decode()
    assert r.returncode == 1 and "bomb" not in err and f"more than {specmod.MAX_SPEC_NODES} values" in err, err


# --- causes first ------------------------------------------------------------------------------------

def test_unknown_field_comes_first_with_a_did_you_mean(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("apiVersion: pxsec.io/v1alpha1\nkind: PortworxSecurity\nspec:\n"
                    "  selfsigned: {issuer: openstorage.io, sharedSecret: true}\n")
    r = run_pxsec(["render", "-s", str(spec)])
    assert r.returncode == 1
    assert r.stderr.decode().startswith(f"pxsec: error: {spec}: spec.selfsigned: unknown field; did you mean "
                                        f"selfSigned? (allowed here: ")
    v = run_pxsec(["validate", str(spec)]).stderr.decode().splitlines()
    assert "spec.selfsigned: unknown field; did you mean selfSigned?" in v[0] and "at least one of" in v[1]


def test_no_did_you_mean_for_a_field_like_nothing_allowed():
    doc = with_value(("spec", "frobnicate"), 1)
    (p,) = specmod.problems(doc)
    assert p.message.startswith("unknown field (allowed here:")


def test_validate_on_create_true_says_what_render_will_need(tmp_path):
    spec = tmp_path / "s.yaml"
    doc = yaml.safe_load(yaml.safe_dump(MINIMAL))
    doc["spec"]["secret"] = {"create": True}
    spec.write_text(yaml.safe_dump(doc))
    r = run_pxsec(["validate", str(spec)])
    assert r.returncode == 0
    out = r.stdout.decode()
    for var in ("PORTWORX_AUTH_SYSTEM_KEY", "PORTWORX_AUTH_STORK_KEY", "PORTWORX_AUTH_JWT_SHAREDSECRET"):
        assert var in out, out
    render = run_pxsec(["render", "-s", str(spec)], stdin=(ROOT / "examples" / "portworx.yaml").read_bytes())
    err = render.stderr.decode()
    assert render.returncode == 1 and all(v in err for v in ("PORTWORX_AUTH_SYSTEM_KEY", "PORTWORX_AUTH_STORK_KEY",
                                                             "PORTWORX_AUTH_JWT_SHAREDSECRET")), err


def test_annotation_values_may_be_multi_line_text():
    """kustomize's `config.kubernetes.io/function` is a YAML document in an annotation."""
    doc = with_value(("metadata", "annotations", "config.kubernetes.io/function"), "exec:\n  path: pxsec\n\tx")
    assert specmod.problems(doc) == []
    bad = with_value(("metadata", "annotations", "a"), "x\x1b[31m")
    assert [p.path for p in specmod.problems(bad)] == ["metadata.annotations.a"]


def test_the_schema_states_the_same_defaults_as_the_code():
    """spec.DEFAULTS is the one statement of the defaults; the schema's `default` annotations
    (what editors offer) must say the same, and name no default the code does not apply."""
    import json

    schema = json.loads((ROOT / "schemas" / "portworxsecurity.schema.json").read_text())

    def walk(node, path):
        if isinstance(node, dict):
            if "default" in node:
                yield path, node["default"]
            for key, sub in (node.get("properties") or {}).items():
                yield from walk(sub, f"{path}.{key}" if path else key)

    stated = dict(walk(schema["properties"]["spec"], ""))
    assert stated == specmod.DEFAULTS


def test_every_schema_field_has_a_description():
    """Editors (yaml-language-server) show these: issue 14 asks for one on every field."""
    import json

    schema = json.loads((ROOT / "schemas" / "portworxsecurity.schema.json").read_text())
    missing = []

    def walk(node, path):
        for key, sub in (node.get("properties") or {}).items():
            if not sub.get("description"):
                missing.append(f"{path}.{key}" if path else key)
            walk(sub, f"{path}.{key}" if path else key)

    walk(schema, "")
    for name, d in schema["$defs"].items():
        walk(d, f"$defs.{name}")
    assert not missing
