"""Kubernetes' own reader (tools/k8sread) as the oracle: it and the invariant checker can fail
(hand-written insecure streams), every golden case and every corpus file rendered by pxsec
satisfies the invariants on Kubernetes' view, and the issue-9 regressions are seen through it.
"""
from __future__ import annotations

import functools

import pytest
import yaml

import invariants as inv
from conftest import ROOT, corpus_files, read_env_file, require_corpus, run_pxsec
from k8s_view import K8sReadError, read, read_many

CASES = ROOT / "tests" / "cases"
OK_CASES = sorted(p.name for p in CASES.iterdir() if p.is_dir() and p.name != "errors")
SPEC = {"selfSigned": {"issuer": "openstorage.io", "sharedSecret": True}}
SPEC_TEXT = """\
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
metadata: {name: px-security}
spec:
  selfSigned: {issuer: openstorage.io, sharedSecret: true}
"""
KEYS = """\
            - {name: PORTWORX_AUTH_SYSTEM_KEY, valueFrom: {secretKeyRef: {name: pxsec-auth-keys, key: system-secret}}}
            - {name: PORTWORX_AUTH_STORK_KEY, valueFrom: {secretKeyRef: {name: pxsec-auth-keys, key: stork-secret}}}
            - {name: PORTWORX_AUTH_JWT_SHAREDSECRET, valueFrom: {secretKeyRef: {name: pxsec-auth-keys, key: shared-secret}}}
"""


def daemonset(containers: str, kind: str = "DaemonSet") -> str:
    return ("apiVersion: apps/v1\nkind: " + kind + "\nmetadata: {name: portworx, namespace: kube-system}\n"
            "spec:\n  template:\n    spec:\n      containers:\n" + containers)


SECURE = daemonset("        - name: portworx\n          image: portworx/oci-monitor:3.1.0\n"
                   "          args: [-c, px, -jwt_issuer, openstorage.io]\n          env:\n" + KEYS)


# --- (a) the oracle and the checker can fail ---------------------------------------------------

def test_secure_stream_passes():
    inv.assert_secured(read(SECURE), SPEC)


EVIL = "https://evil.example.com"
# name -> (stream, what the checker must say about it)
INSECURE = {
    # Kubernetes resolves the merge: an unsecured Portworx container
    "merge-key-hidden-portworx": (daemonset(
        "        - <<: {name: portworx, image: 'portworx/oci-monitor:3.1.0'}\n          args: [-c, px]\n"),
        "container portworx: PORTWORX_AUTH_SYSTEM_KEY missing"),
    # `!!binary` decodes to DaemonSet / portworx
    "binary-kind": (SECURE.replace("kind: DaemonSet", "kind: !!binary RGFlbW9uU2V0").replace(
        "args: [-c, px, -jwt_issuer, openstorage.io]", "args: [-c, px]"), "-jwt_issuer must appear once"),
    "binary-container-name": (daemonset("        - name: !!binary cG9ydHdvcng=\n          image: busybox\n"),
                              "container portworx: PORTWORX_AUTH_SYSTEM_KEY missing"),
    # go-yaml reads a plain y as a boolean
    "unquoted-y-env-value": (SECURE.replace(KEYS, KEYS + "            - {name: PX_X, value: y}\n"),
                             "env PX_X value is a bool, not a string"),
    # a rogue issuer in `command` is one more -oidc_issuer for px-runc
    "flag-in-command": (SECURE.replace("args:", f"command: [/px-oci-mon, -oidc_issuer, '{EVIL}']\n          args:"),
                        "-oidc_issuer that the spec does not ask for"),
    "flag-equals-in-args": (SECURE.replace("-jwt_issuer, openstorage.io", "-jwt_issuer=evil.example.com"),
                            "-jwt_issuer must appear once with the spec's value, found 1 value(s) (a different one)"),
    "flag-twice": (SECURE.replace("-jwt_issuer, openstorage.io", "-jwt_issuer, openstorage.io, --jwt_issuer, x"),
                   "-jwt_issuer must appear once with the spec's value, found 2"),
    "secret-flag": (SECURE.replace("-jwt_issuer, openstorage.io", "-jwt_issuer, openstorage.io, --auth_system_key, x"),
                    "-auth_system_key puts a secret on the command line"),
    # the sidecar gets the key variables through the shared anchor
    "shared-anchor-env": (SECURE.replace("          env:\n", "          env: &e\n")
                          + "        - {name: sidecar, image: busybox, env: *e}\n",
                          "container sidecar: key variable PORTWORX_AUTH_SYSTEM_KEY outside Portworx"),
    "literal-key": (SECURE.replace("{name: PORTWORX_AUTH_SYSTEM_KEY, valueFrom: {secretKeyRef: {name: pxsec-auth-keys,"
                                   " key: system-secret}}}", "{name: PORTWORX_AUTH_SYSTEM_KEY, value: hunter2}"),
                    "PORTWORX_AUTH_SYSTEM_KEY is not a secretKeyRef to pxsec-auth-keys/system-secret (a literal value)"),
    "shell-wrapper": (SECURE.replace("args:", "command: [sh, -c, 'exec /px-oci-mon \"$@\"']\n          args:"),
                      "command is a shell (sh)"),
    "init-container": (SECURE.replace("      containers:\n", "      initContainers:\n"
                                      "        - {name: portworx, image: 'portworx/oci-monitor:3.1.0'}\n"
                                      "      containers:\n"), "initContainer portworx: Portworx runs as an init"),
    "daemonset-in-a-list": ("apiVersion: v1\nkind: List\nitems:\n- " + daemonset(
        "        - {name: portworx, image: 'portworx/oci-monitor:3.1.0'}\n").replace("\n", "\n  "),
        "container portworx: PORTWORX_AUTH_SYSTEM_KEY missing"),
    "envfrom-twin": (SECURE.replace("          env:\n", "          envFrom: [{configMapRef: {name: px-env}}]\n"
                                    "          env:\n")
                     + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: px-env, namespace: kube-system}\n"
                       f"data: {{PORTWORX_AUTH_OIDC_ISSUER: '{EVIL}'}}\n",
                     "env twin PORTWORX_AUTH_OIDC_ISSUER of a flag the spec does not ask for (envFrom ConfigMap px-env)"),
    "storagecluster-off": ("apiVersion: core.libopenstorage.org/v1\nkind: StorageCluster\nmetadata: {name: px}\n"
                           "spec: {security: {enabled: 'true'}}\n", "spec.security.enabled is not true"),
    "stork-unsecured": ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: stork}\nspec: {template: {spec: "
                        "{containers: [{name: stork, image: 'openstorage/stork:2.6.0'}]}}}\n",
                        "PX_SHARED_SECRET is not one secretKeyRef"),
}


@pytest.mark.parametrize("name", sorted(INSECURE))
def test_checker_flags_insecure_stream(name):
    stream, needle = INSECURE[name]
    bad = inv.violations(read(stream), SPEC)
    assert any(needle in b for b in bad), f"{name}: {needle!r} not among {bad}"


def test_oracle_reads_as_kubernetes_not_as_pyyaml():
    """Where PyYAML and go-yaml disagree, the oracle answers like go-yaml (sigs.k8s.io/yaml)."""
    doc = read("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
               "data: {a: y, b: 12:30, c: 0o17, d: n, e: 1_000, f: on}\n")[0]["data"]
    assert doc == {"a": True, "b": "12:30", "c": 15, "d": False, "e": 1000, "f": True}
    assert yaml.safe_load("a: 12:30")["a"] == 750  # PyYAML: sexagesimal


def test_a_top_level_template_is_a_pod_only_in_a_PodTemplate():
    """k8s.io/api: only PodTemplate has a top-level `template` (PodTemplate.Template); on a
    DaemonSet it is an unknown field the API server drops. A DaemonSet whose `template:` lost its
    indentation (spec: null) runs no container, so the checker must not see one there (a random
    malformed input found the checker reading it as a pod)."""
    pod = {"spec": {"containers": [{"name": "portworx", "image": "portworx/oci-monitor:2.8.1.2"}]}}
    lost = read("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: portworx, namespace: kube-system}\n"
                "spec:\ntemplate:\n  spec:\n    containers: [{name: portworx, image: portworx/oci-monitor:2.8.1.2}]\n")
    assert lost[0]["spec"] is None and list(inv.pod_specs(lost[0])) == []
    assert inv.violations(lost, SPEC) == []
    assert list(inv.pod_specs({"kind": "PodTemplate", "template": pod})) == [pod["spec"]]
    assert list(inv.pod_specs({"kind": "Pod", **pod})) == [pod["spec"]]


def test_oracle_skips_empty_documents_and_flattens_lists():
    text = "---\n---\nnull\n---\n# only a comment\n---\n" + INSECURE["daemonset-in-a-list"][0]
    assert [o["kind"] for o in read(text)] == ["DaemonSet"]


def test_oracle_reports_errors_and_what_kubectl_still_applies():
    with pytest.raises(K8sReadError):
        read(SECURE + "---\nkind: [\n")
    [result] = read_many([SECURE + "---\n42\n---\na: b\n"])
    assert isinstance(result, K8sReadError) and [d["kind"] for d in result.docs] == ["DaemonSet"]


def test_batch_mode_reads_like_single_mode():
    texts = [SECURE, INSECURE["merge-key-hidden-portworx"][0], "", "---\n", "{\"apiVersion\": \"v1\", \"kind\": \"List\", "
             "\"items\": [{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\"}]}\n"]
    assert read_many(texts) == [read(t) for t in texts]


def test_secret_value_helper_can_fail():
    with pytest.raises(AssertionError):
        inv.assert_no_secret_values("env: {value: hunter2hunter2}", ["hunter2hunter2"])
    b64 = "aHVudGVyMmh1bnRlcjI="
    text = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata: {{k: {b64}}}\n"
    with pytest.raises(AssertionError):
        inv.assert_no_secret_values(text, ["hunter2hunter2"], read(text))


# --- (b) golden cases and the corpus ----------------------------------------------------------

def _load_spec(path) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize("case", OK_CASES)
def test_golden_case_is_secure_for_kubernetes(case):
    d = CASES / case
    spec = _load_spec(d / "spec.yaml")
    out, before = read_many([(d / "want.yaml").read_text(), (d / "input.yaml").read_text()])
    assert not isinstance(out, K8sReadError), f"Kubernetes cannot read the golden output: {out}"
    inv.assert_secured(out, spec, baseline=before.docs if isinstance(before, K8sReadError) else before)
    env = read_env_file(d / "env")
    inv.assert_no_secret_values((d / "want.yaml").read_text(), env.values(), out)


@functools.lru_cache(maxsize=1)
def corpus_views(tmp: str) -> dict:
    from test_corpus import ENV, SPECS

    require_corpus()
    from pathlib import Path

    runs, texts = [], []
    for spec_name, spec_text in sorted(SPECS.items()):
        spec_path = Path(tmp) / f"{spec_name}.yaml"
        spec_path.write_text(spec_text)
        for path in corpus_files():
            r = run_pxsec(["render", "--spec", str(spec_path), str(path)], env=ENV)
            runs.append((spec_name, path.name, r))
            if r.returncode == 0:
                texts += [r.stdout, path.read_bytes()]
    views = iter(read_many(texts))
    out = {}
    for spec_name, name, r in runs:
        out[(spec_name, name)] = (r, (next(views), next(views)) if r.returncode == 0 else None)
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return corpus_views(str(tmp_path_factory.mktemp("corpus-specs")))


def _corpus_ids():
    from test_corpus import SPECS

    return [(s, p.name) for s in sorted(SPECS) for p in corpus_files()]


@pytest.mark.parametrize("spec_name,name", _corpus_ids())
def test_corpus_output_is_secure_for_kubernetes(corpus, spec_name, name):
    from test_corpus import ENV, SPECS

    r, views = corpus[(spec_name, name)]
    if r.returncode != 0:  # refusing is allowed (one clear line); insecure output is not
        assert r.stdout == b"" and r.stderr.decode().startswith("pxsec: error: "), r.stderr.decode()
        return
    out, before = views
    assert not isinstance(out, K8sReadError), f"Kubernetes cannot read pxsec's output: {out}"
    baseline = before.docs if isinstance(before, K8sReadError) else before
    inv.assert_secured(out, yaml.safe_load(SPECS[spec_name]), baseline=baseline)
    inv.assert_no_secret_values(r.stdout.decode(), ENV.values(), out)


# --- (c) issue 9 regressions, judged on Kubernetes' view of what render prints ------------------

BARE = "        - name: portworx\n          image: portworx/oci-monitor:3.1.0\n"
SECRET_IN_COMMAND = "hunter2hunter2hunter2"
_B64_IMAGE = "cG9ydHdvcngvb2NpLW1vbml0b3I6My4xLjA="  # portworx/oci-monitor:3.1.0
OIDC_SPEC = SPEC_TEXT + "  oidc: {issuer: 'https://idp.example.com', clientId: '0o1234'}\n"
# name -> (input stream, spec text): render must refuse it (exit 1, one line) or secure it
REGRESSIONS = {
    "d1-merge-key": (INSECURE["merge-key-hidden-portworx"][0], SPEC_TEXT),
    "d2-binary-kind": (daemonset(BARE).replace("kind: DaemonSet", "kind: !!binary RGFlbW9uU2V0"), SPEC_TEXT),
    "d2-binary-name": (INSECURE["binary-container-name"][0], SPEC_TEXT),
    "d2-binary-image": (daemonset(f"        - name: px\n          image: !!binary {_B64_IMAGE}\n"), SPEC_TEXT),
    "d3-local-config": (daemonset(BARE).replace("namespace: kube-system}", "namespace: kube-system, annotations: "
                                                "{config.kubernetes.io/local-config: 'true'}}"), SPEC_TEXT),
    "d4-flags-in-command": (daemonset(BARE + f"          command: [/px-oci-mon, -c, x, -oidc_issuer, '{EVIL}', "
                                             f"-auth_system_key, {SECRET_IN_COMMAND}]\n"), SPEC_TEXT),
    "d4-flag-equals-in-command": (daemonset(BARE + "          command: [/px-oci-mon, -jwt_issuer=evil.example.com]\n"),
                                  SPEC_TEXT),
    "d5-envfrom-twin": (daemonset(BARE + "          envFrom: [{configMapRef: {name: px-env}}]\n")
                        + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: px-env, namespace: kube-system}\n"
                          f"data: {{PORTWORX_AUTH_OIDC_ISSUER: '{EVIL}', PORTWORX_AUTH_OIDC_CLIENTID: evil}}\n",
                        SPEC_TEXT),
    "d6-shell-wrapper": (daemonset(BARE + "          command: [sh, -c, 'exec /px-oci-mon -c px']\n"), SPEC_TEXT),
    "d7-shared-env-anchor": (daemonset(BARE + "          env: &e [{name: PX_A, value: a}]\n"
                                       "        - {name: sidecar, image: busybox, env: *e}\n"), SPEC_TEXT),
    "d7-shared-args-anchor": (daemonset(BARE + "          args: &a [-c, px]\n"
                                        "        - {name: sidecar, image: busybox, args: *a}\n"), SPEC_TEXT),
    "d8-quoted-scalars": (daemonset(BARE + "          env: [{name: A, value: \"y\"}, {name: B, value: \"n\"}, "
                                    "{name: C, value: \"on\"}, {name: D, value: \"12:30\"}, {name: E, value: \"Y\"}]"),
                          SPEC_TEXT),
    "d8-spec-string-0o1234": (daemonset(BARE), OIDC_SPEC),
    "d8-str-tag": (daemonset(BARE + "          env: [{name: PX_A, value: !!str y}, {name: PX_B, value: !!str 0o17}]\n"),
                   SPEC_TEXT),
    "d18-init-container": (INSECURE["init-container"][0].replace("-jwt_issuer, openstorage.io", "-c, px"), SPEC_TEXT),
    "d18-daemonset-list": ("apiVersion: apps/v1\nkind: DaemonSetList\nitems:\n- "
                           + daemonset(BARE).replace("\n", "\n  ").rstrip() + "\n", SPEC_TEXT),
}
DEFECT = {"d1-merge-key": 1, "d2-binary-kind": 2, "d2-binary-name": 2, "d2-binary-image": 2, "d3-local-config": 3,
          "d4-flags-in-command": 4, "d4-flag-equals-in-command": 4, "d5-envfrom-twin": 5, "d6-shell-wrapper": 6,
          "d7-shared-env-anchor": 7, "d7-shared-args-anchor": 7, "d8-quoted-scalars": 8, "d8-spec-string-0o1234": 8, "d8-str-tag": 8,
          "d18-init-container": 18, "d18-daemonset-list": 18}
# Confirmed failing on the pre-fix renderer (7fb7c9b), each for its defect; all fixed since. A
# case that fails again is a regression: list it here only with a strict xfail and its defect.
FAILING_TODAY: set = set()


def _regression_params():
    for name in sorted(REGRESSIONS):
        marks = [pytest.mark.xfail(strict=True, reason=f"issue 9 defect {DEFECT[name]}")] if name in FAILING_TODAY else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", list(_regression_params()))
def test_regression_refused_or_secure_for_kubernetes(tmp_path, name):
    stream, spec_text = REGRESSIONS[name]
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(spec_text)
    r = run_pxsec(["render", "--spec", str(spec_path), "-"], stdin=stream.encode())
    err = r.stderr.decode()
    assert "Traceback" not in err and "internal error" not in err, err
    if r.returncode != 0:
        assert r.returncode == 1 and r.stdout == b"", err
        assert err.startswith("pxsec: error: ") and err.count("\n") == 1, err
        return
    out = r.stdout.decode()
    assert SECRET_IN_COMMAND not in out, "a secret from the command line survived"
    view = read(out)  # Kubernetes reads every accepted output
    inv.assert_secured(view, yaml.safe_load(spec_text), baseline=_docs(read_many([stream])[0]))


def _docs(result):
    return result.docs if isinstance(result, K8sReadError) else result
