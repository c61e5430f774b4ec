"""`pxsec check` over the whole shared corpus (../shared/corpus).

1. Each corpus file gives exactly the findings recorded in tests/check/expected/<path>.json
   (rule id, severity and location; the `about` text there says which known gaps the
   security-enabled examples have). PXSEC_UPDATE_EXPECTED=1 rewrites the findings (never the
   `about` text) after a deliberate change; review the diff.
2. Whatever `pxsec render` makes of a corpus file passes `pxsec check` with the same spec:
   no error finding and no drift, for several specs (secret.create and public keys included).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from conftest import CORPUS, ROOT, corpus_files, require_corpus
from pxsec import audit
from pxsec.render import pipeline
from pxsec import spec as specmod
from pxsec.errors import PxsecError

EXPECTED = ROOT / "tests" / "check" / "expected"
FILES = corpus_files()
KEYS = ("rule_id", "severity", "index", "kind", "namespace", "name", "field", "line")

ENV = {  # test-only key values; check must never print them
    "PORTWORX_AUTH_SYSTEM_KEY": "check-corpus-system-0123456789abcdef0123456789",
    "PORTWORX_AUTH_STORK_KEY": "check-corpus-stork-0123456789abcdef01234567890",
    "PORTWORX_AUTH_JWT_SHAREDSECRET": "check-corpus-shared-0123456789abcdef012345678",
}
SPECS = {
    "example": (ROOT / "examples" / "spec.yaml").read_text(),
    "create-apps-pubkeys": """
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
spec:
  secret: {name: pxkeys, create: true}
  stork: {enabled: true, issuer: apps.portworx.io}
  selfSigned:
    issuer: openstorage.io
    sharedSecret: true
    rsaPublicKey: {secretName: px-jwt-keys, key: rsa.pub}
    ecdsaPublicKey: {secretName: px-jwt-keys, key: ecdsa.pub}
  oidc: {issuer: "https://accounts.example.com", clientId: px-client, customClaimNamespace: "https://example.com/"}
  usernameClaim: name
  guestAccess: Disabled
  tokenLifetime: 7d
""",
    "oidc-only": """
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
spec:
  oidc: {issuer: "https://login.example.com", clientId: portworx}
""",
    "rsa-only-managed": """
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
spec:
  secret: {name: px-system-secrets, keys: {stork: apps-secret}}
  stork: {issuer: apps.portworx.io}
  selfSigned: {issuer: rsa.example.com, rsaPublicKey: {secretName: jwt-pub, key: key.pem}}
  guestAccess: Managed
""",
    "no-stork": """
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
spec:
  stork: {enabled: false}
  selfSigned: {issuer: openstorage.io, sharedSecret: true}
""",
}


def rel(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


def expected_path(path: Path) -> Path:
    return EXPECTED / (rel(path) + ".json")


def located(findings) -> list[dict]:
    return [{k: getattr(f, k) for k in KEYS} for f in findings]


def test_corpus_is_present_and_every_file_has_expectations():
    require_corpus()
    assert FILES, f"no corpus files under {CORPUS}"
    missing = [rel(p) for p in FILES if not expected_path(p).is_file()]
    stale = sorted(p.relative_to(EXPECTED).as_posix()[:-5] for p in EXPECTED.rglob("*.json")
                   if not (CORPUS / p.relative_to(EXPECTED).as_posix()[:-5]).is_file())
    assert (missing, stale) == ([], [])


@pytest.mark.parametrize("path", FILES, ids=rel)
def test_corpus_file_gives_the_expected_findings(path):
    require_corpus()
    report = audit.check([(rel(path), path.read_text(encoding="utf-8"))])
    got = located(report.findings)
    target = expected_path(path)
    if os.environ.get("PXSEC_UPDATE_EXPECTED"):
        old = json.loads(target.read_text()) if target.is_file() else {}
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps({"corpus_file": rel(path), "about": old.get("about", "TODO"),
                                      "findings": got}, indent=2) + "\n")
    want = json.loads(target.read_text())
    assert want["corpus_file"] == rel(path)
    assert want["about"] and want["about"] != "TODO", "say what the file is and which gaps are expected"
    assert got == want["findings"]
    for f in report.findings:  # every finding points at a real line of that file
        assert f.line is not None and 1 <= f.line <= path.read_text(encoding="utf-8").count("\n") + 1


def test_security_enabled_examples_have_no_error_but_their_known_gaps():
    require_corpus()
    secured = [p for p in FILES if "security" in p.name or p.name == "px-spec.yaml"]
    assert len(secured) >= 4
    for path in secured:
        report = audit.check([(rel(path), path.read_text())])
        assert report.count("error") == 0, rel(path)
        assert {f.rule_id for f in report.findings} & {"PXS007", "PXS016", "PXS022"}, rel(path)


def _spec(name: str):
    return specmod.from_document(yaml.safe_load(SPECS[name]), f"<{name}>")


@pytest.mark.parametrize("spec_name", sorted(SPECS))
def test_render_output_passes_check_with_the_same_spec(spec_name):
    require_corpus()
    spec = _spec(spec_name)
    rendered = refused = 0
    for path in FILES:
        source = [(rel(path), path.read_text(encoding="utf-8"))]
        try:
            out = pipeline.render(source, spec, environ=ENV).text
        except PxsecError:
            # render refuses (e.g. a Stork Deployment with stork disabled): check says the same
            assert [f.rule_id for f in audit.check(source, spec).findings if f.rule_id == "PXS020"] == ["PXS020"]
            refused += 1
            continue
        rendered += 1
        report = audit.check([(rel(path), out)], spec)
        bad = [(f.rule_id, f.workload, f.field, f.message) for f in report.findings
               if f.severity == "error" or f.rule_id == "PXS019"]
        assert bad == [], rel(path)
        assert report.drift_checked
        dumped = repr(report.findings)
        assert not any(v in dumped for v in ENV.values())
    # with stork disabled, every StorageCluster that runs Stork is refused too (issue 21.3)
    assert rendered >= (1 if spec_name == "no-stork" else len(FILES) // 2) and rendered + refused == len(FILES)


def test_a_corpus_directory_is_checked_as_one_stream():
    require_corpus()
    sub = CORPUS / "manifests"
    from pxsec import sources

    report = audit.check(sources.read_inputs([str(sub)]))
    per_file = set()
    for p in sorted(sub.glob("*.yaml")):
        per_file |= {(str(p), f.rule_id, f.index, f.field) for f in audit.check([(str(p), p.read_text())]).findings
                     if f.rule_id not in ("PXS003", "PXS005", "PXS021", "PXS022")}
    together = {(f.file, f.rule_id, f.index, f.field) for f in report.findings
                if f.rule_id not in ("PXS003", "PXS005", "PXS021", "PXS022")}
    assert together == per_file  # per-object rules do not depend on what else is in the stream
