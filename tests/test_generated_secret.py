"""pxsec.render.generated_secret: the one builder of every Secret pxsec writes (templates/secret.yaml.j2
through the safe serializer), checked on PyYAML's view and on Kubernetes' own (kubectl kustomize
reads and re-emits each Secret with the Go YAML stack kubectl uses)."""
from __future__ import annotations

import base64
import subprocess

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from e2e.support import need
from pxsec.render import generated_secret
from pxsec.tokens import keys as keysmod
from pxsec import tokens
from pxsec.errors import PxsecError

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=200)
@given(name=text, namespace=st.none() | text, annotations=st.dictionaries(text, text, max_size=3),
       data=st.dictionaries(text, text | st.binary(), max_size=3), managed=st.none() | text)
def test_any_value_stays_inside_its_scalar(name, namespace, annotations, data, managed):
    """Names, keys and values that would break spliced YAML (`: `, `#`, quotes, newlines, `{`,
    `*alias`, `!!tag`, `yes`, `0o17`...) come back exactly: the builder never splices text."""
    out, obj = generated_secret.manifest(name, data, namespace, annotations, managed_by=managed)
    doc = yaml.load(out, Loader=yaml.CSafeLoader)
    assert doc == obj
    assert doc["metadata"]["name"] == name and doc["metadata"].get("namespace") == namespace
    assert doc["metadata"].get("annotations", {}) == annotations
    want = {k: v.encode() if isinstance(v, str) else v for k, v in data.items()}
    assert {k: base64.b64decode(v) for k, v in (doc["data"] or {}).items()} == want


def test_unfaithful_output_is_refused(monkeypatch):
    from pxsec.spec import templating

    real = templating.render
    monkeypatch.setattr(templating, "render", lambda *a, **k: (real(*a, **k)[0], {"kind": "Secret"}))
    with pytest.raises(PxsecError, match="did not serialize faithfully"):
        generated_secret.manifest("s", {"k": "v"})


def test_render_and_keys_build_the_same_shape():
    spec = keysmod.default_spec()
    text, obj = generated_secret.build(spec, "px", {"system-secret": "v" * 40})
    assert obj["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "pxsec"}
    assert generated_secret.is_generated(obj)
    keys_text = keysmod.shared_keys_secret(keysmod.generate_shared_keys(spec), spec, "px")
    assert keys_text.splitlines()[:4] == text.splitlines()[:4]  # apiVersion, kind, metadata, name


def test_kubernetes_reads_what_keys_and_token_generate_write(tmp_path):
    kubectl = need("kubectl")
    spec = keysmod.default_spec()
    shared = keysmod.generate_shared_keys(spec)
    pair = keysmod.generate_key_pair("ecdsa")
    token = "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJvcGVuc3RvcmFnZS5pbyJ9.c2ln"
    files = {
        "shared.yaml": (keysmod.shared_keys_secret(shared, spec, "kube-system"), shared.secret_data()),
        "public.yaml": (keysmod.secret_manifest("px-jwt-keys", {"ecdsa.pub": pair.public_pem}, "kube-system"),
                        {"ecdsa.pub": pair.public_pem.decode()}),
        "token.yaml": (tokens.token_secret("px-user-token", token, "default"), {"auth-token": token}),
    }
    for name, (body, _) in files.items():
        (tmp_path / name).write_text(body)
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({"resources": sorted(files)}))
    r = subprocess.run([kubectl, "kustomize", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    seen = {d["metadata"]["name"]: d for d in yaml.load_all(r.stdout, Loader=yaml.CSafeLoader)}
    assert set(seen) == {"pxsec-auth-keys", "px-jwt-keys", "px-user-token"}
    for name, (_, want) in files.items():
        doc = yaml.load((tmp_path / name).read_text(), Loader=yaml.CSafeLoader)
        got = seen[doc["metadata"]["name"]]
        assert (got["kind"], got["type"], got["metadata"].get("namespace")) == \
            ("Secret", "Opaque", doc["metadata"].get("namespace"))
        assert {k: base64.b64decode(v).decode() for k, v in got["data"].items()} == want
        assert got["metadata"].get("annotations") == doc["metadata"].get("annotations")
