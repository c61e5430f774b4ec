"""`pxsec policy`: a ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, CEL) and its
binding, so the API server itself refuses any Portworx workload that is not secured as the spec
says, however it arrives (kubectl by hand, a chart upgrade outside the pipeline).

What it asks for is what `pxsec render` makes (policy_expected.py runs render's filters on
probe objects); each validation's message starts with the `pxsec check` rule it enforces (id and
name from audit/model.py), so a refusal reads like a `check` finding. The objects are built as
data and written by the safe dumper (kyaml.dump); every value enters CEL through policy_cel.lit.

Matched: CREATE and UPDATE of the pod-template kinds (portworx.POD_SPEC_PATHS) running a
Portworx container, Deployments running Stork, and StorageClusters. Objects with a controller
(a DaemonSet's pods, a Deployment's ReplicaSets, and the pods and Stork Deployment the operator
makes, each with a controller reference to the StorageCluster: libopenstorage/operator
pkg/controller/storagecluster storagecluster.go `syncNodes`, stork.go `syncStork`) are checked
through that controller, not again. What CEL cannot see is listed in README "Enforce it in every
cluster".
"""
from __future__ import annotations

import re

from . import goshlex
from . import policy_cel as cel
from . import policy_expected as expected
from . import portworx as px
from .audit.model import RULES
from .errors import PxsecError, UsageError
from .spec import Spec

API_VERSION = "admissionregistration.k8s.io/v1"
DEFAULT_NAME = "pxsec-portworx-security"
ACTIONS = ("Deny", "Warn", "Audit")
# The kinds whose pods run Portworx or Stork, by API group (portworx.POD_SPEC_PATHS), and StorageCluster.
RESOURCES = (
    ("", "v1", ("pods", "podtemplates", "replicationcontrollers")),
    ("apps", "v1", ("daemonsets", "deployments", "replicasets", "statefulsets")),
    ("batch", "v1", ("jobs", "cronjobs")),
    (px.STORAGECLUSTER_GROUP.rstrip("/"), "*", ("storageclusters",)),
)
# kind -> the controller kinds that make it from a template (or a StorageCluster) that is checked
# instead: a DaemonSet's or the operator's pods, a Deployment's ReplicaSets, a CronJob's Jobs, the
# operator's Stork Deployment. Nothing else is exempt, a DaemonSet never.
CONTROLLED = {
    "Pod": ("DaemonSet", "ReplicaSet", "StatefulSet", "Job", "ReplicationController", "StorageCluster"),
    "ReplicaSet": ("Deployment",),
    "Job": ("CronJob",),
    "Deployment": ("StorageCluster",),
}
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                        r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")

POD_SPEC = ("(object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : "
            "object.kind == 'Pod' ? object.spec : object.kind == 'PodTemplate' ? object.template.spec : "
            "object.spec.template.spec)")
IS_SC = "(object.kind == 'StorageCluster')"


def _rule(rule_id: str, text: str) -> str:
    return f"{rule_id} {RULES[rule_id].name}: {text}"


def _check(expression: str, rule_id: str, text: str) -> dict:
    return {"expression": expression, "message": _rule(rule_id, text), "reason": "Invalid"}


def _variables() -> list[dict]:
    pod = "variables.podSpec"
    return [
        {"name": "podSpec", "expression": f"{IS_SC} ? null : {POD_SPEC}"},
        {"name": "portworx", "expression": f"{IS_SC} ? [] : ({pod}.containers.filter(c, {cel.is_portworx('c')}))"},
        {"name": "portworxInit", "expression": f"!{IS_SC} && has({pod}.initContainers) && "
                                               f"{pod}.initContainers.exists(c, {cel.is_portworx('c')})"},
        {"name": "miscArgs", "expression": f"{IS_SC} && has(object.metadata.annotations) && "
                                           f"{cel.lit(px.MISC_ARGS)} in object.metadata.annotations ? "
                                           f"object.metadata.annotations[{cel.lit(px.MISC_ARGS)}] : ''"},
        {"name": "miscWords", "expression": cel.misc_words("variables.miscArgs")},
        {"name": "stork", "expression": f"object.kind != 'Deployment' || size(variables.portworx) > 0 ? [] : "
                                        f"{pod}.containers.filter(c, {cel.is_stork('c')})"},
    ]


def _match_conditions() -> list[dict]:
    pairs = " || ".join(f"(object.kind == {cel.lit(kind)} && r.kind in {cel.lits(owners)})"
                        for kind, owners in CONTROLLED.items())
    owned = (f"has(object.metadata.ownerReferences) && object.metadata.ownerReferences.exists(r, "
             f"has(r.controller) && r.controller && ({pairs}))")
    pod = POD_SPEC
    runs = (f"({pod}.containers.exists(c, {cel.is_portworx('c')}) || (has({pod}.initContainers) && "
            f"{pod}.initContainers.exists(c, {cel.is_portworx('c')})) || (object.kind == 'Deployment' && "
            f"{pod}.containers.exists(c, {cel.is_stork('c')})))")
    return [
        {"name": "checked-through-its-controller", "expression": f"!({owned})"},
        {"name": "portworx-stork-or-storagecluster", "expression": f"{IS_SC} || {runs}"},
    ]


def _portworx_checks(want: expected.Container) -> list[dict]:
    each = "variables.portworx.all(c, {})".format
    issuers = [px.SETTINGS[k][0] for k in ("jwt_issuer", "oidc_issuer", "rsa_file", "ecds_file")]
    twins = [px.SETTINGS[k][1] for k in ("jwt_issuer", "oidc_issuer", "rsa_file", "ecds_file")]
    some = (f"(has(c.env) && c.env.exists(e, e.name in {cel.lits(px.PX_KEY_ENV + tuple(twins))})) || "
            f"(has(c.args) && {cel.words_with_flag('c.args', issuers)}) || "
            f"(has(c.command) && {cel.words_with_flag('c.command', issuers)})")
    out = [
        # audit/rules_workload.py security_disabled: no issuer and no key at all
        _check(each(f"({some})"), "PXS001", "PX-Security is off: the Portworx container has no issuer "
               f"({px.SETTINGS['jwt_issuer'][0]} / {px.SETTINGS['oidc_issuer'][0]} / public key) and no PORTWORX_AUTH_* keys"),
        _check("!variables.portworxInit", "PXS023", "an init container runs Portworx: only the Portworx container of "
               "a DaemonSet is secured (pxsec render refuses this)"),
        _check(each(f"!{cel.shell_wrapped('c')}"), "PXS023", "the Portworx container runs a shell (command: sh -c "
               "...): px-runc flags in args never reach px-runc (pxsec render refuses this)"),
        _check(each(cel.env_no_literal("c", px.SECRET_ENV)), "PXS008", f"a PX-Security key "
               f"({', '.join(px.SECRET_ENV)}) is a literal value in the manifest; use valueFrom.secretKeyRef"),
        _check(each(f"(!has(c.args) || {cel.words_without_flags('c.args', px.SECRET_FLAGS)}) && "
                    f"(!has(c.command) || {cel.words_without_flags('c.command', px.SECRET_FLAGS)})"),
               "PXS008", f"{' and '.join(px.SECRET_FLAGS)} put a secret on the px-runc command line; "
               f"use the key env vars from a Secret"),
    ]
    for name, secret, key in want.env:
        out.append(_check(each(cel.env_from_secret("c", name, secret, key)), "PXS019",
                          f"the Portworx container must set {name} from Secret {secret} key {key} "
                          f"(valueFrom.secretKeyRef), as the spec says"))
    if want.forbidden_env:
        out.append(_check(each(cel.env_without("c", want.forbidden_env)), "PXS019",
                          f"the Portworx container sets env the spec does not ask for (one of "
                          f"{', '.join(want.forbidden_env)}); pxsec render removes them"))
    owned = [f for f, _ in want.flags] + list(want.forbidden_flags)
    out.append(_check(each(f"!has(c.command) || {cel.words_without_flags('c.command', owned)}"), "PXS019",
                      "the Portworx container's command sets a px-runc security flag; flags belong in args "
                      "(px-runc reads command + args)"))
    for flag, value in want.flags:
        out.append(_check(each(f"has(c.args) && {cel.flag_once('c.args', flag, value)}"), "PXS019",
                          f"the Portworx container must pass {flag} {value} in args, once, as the spec says"))
    extra = [f for f in want.forbidden_flags if f not in px.SECRET_FLAGS]
    if extra:
        out.append(_check(each(f"!has(c.args) || {cel.words_without_flags('c.args', extra)}"), "PXS019",
                          f"the Portworx container passes a px-runc flag the spec does not ask for (one of "
                          f"{', '.join(extra)}); pxsec render removes it"))
    for volume, path, secret, key in want.mounts:
        mounted = (f"has(c.volumeMounts) && c.volumeMounts.exists(m, m.name == {cel.lit(volume)} && "
                   f"m.mountPath == {cel.lit(path)})")
        provided = (f"has(variables.podSpec.volumes) && variables.podSpec.volumes.exists(v, v.name == "
                    f"{cel.lit(volume)} && has(v.secret) && v.secret.secretName == {cel.lit(secret)} && "
                    f"has(v.secret.items) && v.secret.items.exists(i, i.key == {cel.lit(key)}))")
        out.append(_check(each(f"{mounted} && {provided}"), "PXS009",
                          f"the Portworx container must mount Secret {secret} key {key} at {path} "
                          f"(volume {volume}), for its public-key flag"))
    return out


def _stork_checks(want: expected.Container | None) -> list[dict]:
    each = "variables.stork.all(c, {})".format
    if want is None:
        return [_check("size(variables.stork) == 0", "PXS020", "a Stork Deployment runs but spec.stork.enabled is "
                       "false: Stork could not talk to a secured Portworx")]
    out = [_check(each(f"has(c.env) && c.env.exists(e, e.name == {cel.lit(px.STORK_SECRET)})"), "PXS004",
                  f"Stork has no {px.STORK_SECRET}: it cannot authenticate to a secured Portworx"),
           _check(each(cel.env_no_literal("c", [px.STORK_SECRET])), "PXS008",
                  f"Stork's {px.STORK_SECRET} is a literal value in the manifest; use valueFrom.secretKeyRef")]
    for name, secret, key in want.env:
        out.append(_check(each(cel.env_from_secret("c", name, secret, key)), "PXS005",
                          f"Stork must set {name} from Secret {secret} key {key}, the key Portworx verifies "
                          f"Stork's tokens with"))
    for name, value in want.literal:
        out.append(_check(each(cel.env_literal("c", name, value)), "PXS005",
                          f"Stork must set {name} to {value}, the issuer its key pairs with"))
    return out


def _field(path: tuple) -> str:
    return "object.spec.?security" + "".join(f".?{p}" for p in path)


def _misc_check(flag: str, value: str) -> str:
    word = goshlex.join([value], [])
    if any(ch.isspace() for ch in word):  # a quoted value with blanks: look for render's exact text
        return f"variables.miscArgs.contains({cel.lit(goshlex.join([flag, value], []))})"
    words = "variables.miscWords"
    return cel.flag_once(words, flag, word)


def _storagecluster_checks(want: expected.Cluster) -> list[dict]:
    def sc(expr: str) -> str:
        return f"!{IS_SC} || ({expr})"

    out = [_check(sc("object.spec.?security.?enabled.orValue(false) == true && "
                     "object.spec.?security.?auth.?enabled.orValue(true) == true"), "PXS001",
                  "PX-Security is off: spec.security.enabled must be true (and spec.security.auth.enabled not false)")]
    for path, value in want.security:
        if path == ("enabled",):
            continue
        field = "spec.security." + ".".join(path)
        rule = "PXS016" if path == ("auth", "guestAccess") and value == "Disabled" else \
            "PXS030" if path[-1] == "sharedSecret" else "PXS019"
        out.append(_check(sc(f"{_field(path)}.orValue('') == {cel.lit(value)}"), rule,
                          f"{field} must be {value}, as the spec says"))
    out.append(_check(sc(cel.env_no_literal("object.spec", px.SECRET_ENV)), "PXS008",
                      "a PX-Security key in spec.env is a literal value; use valueFrom.secretKeyRef"))
    for name, secret, key in want.env:
        out.append(_check(sc(cel.env_from_secret("object.spec", name, secret, key)), "PXS019",
                          f"spec.env must set {name} from Secret {secret} key {key}: it seeds the operator's "
                          f"Secrets with your key"))
    if want.forbidden_env:
        out.append(_check(sc(cel.env_without("object.spec", want.forbidden_env)), "PXS019",
                          f"spec.env sets a security env var the operator sets itself or the spec does not ask "
                          f"for (one of {', '.join(want.forbidden_env)}); pxsec render removes it"))
    out.append(_check(sc("!has(object.spec.nodes) || object.spec.nodes.all(n, "
                         + cel.env_without("n", want.node_forbidden_env) + ")"), "PXS003",
                      "spec.nodes[].env sets a PX-Security key or setting: those nodes would be secured differently "
                      "from the rest of the cluster"))
    for volume, path, secret, key in want.volumes:
        out.append(_check(sc(f"has(object.spec.volumes) && object.spec.volumes.exists(v, v.name == {cel.lit(volume)} "
                             f"&& has(v.mountPath) && v.mountPath == {cel.lit(path)} && has(v.secret) && "
                             f"v.secret.secretName == {cel.lit(secret)})"), "PXS009",
                          f"spec.volumes must mount Secret {secret} key {key} at {path} (volume {volume})"))
    for flag, value in want.misc_flags:
        out.append(_check(sc(_misc_check(flag, value)), "PXS019",
                          f"annotation {px.MISC_ARGS} must pass {flag} {value}, once, as the spec says"))
    return out


def _storagecluster_refused(spec: Spec) -> list[dict] | None:
    """When render refuses every StorageCluster with this spec (an operator-owned secret.name with
    secret.create: true), the policy refuses them too, with render's reason."""
    try:
        expected.storage_cluster(spec)
    except PxsecError as e:
        return [_check(f"!{IS_SC}", "PXS020", f"pxsec render refuses StorageClusters with this spec: {e.message}")]
    return None


def validations(spec: Spec) -> list[dict]:
    sc = _storagecluster_refused(spec) or _storagecluster_checks(expected.storage_cluster(spec))
    if not spec.stork_enabled and not _storagecluster_refused(spec):
        # render refuses a StorageCluster that runs Stork (spec.stork absent or enabled) with this spec
        sc.append(_check(f"!{IS_SC} || object.spec.?stork.?enabled.orValue(true) == false", "PXS020",
                         "the StorageCluster runs Stork (spec.stork absent or enabled) but the pxsec spec has "
                         "stork.enabled: false, and render refuses that"))
    return _portworx_checks(expected.portworx_container(spec)) + _stork_checks(expected.stork_container(spec)) + sc


def parse_selector(items) -> dict[str, str]:
    """`key=value` items -> matchLabels; a usage error names a malformed one."""
    labels: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not _LABEL_KEY.match(key) or not _LABEL_VALUE.match(value):
            raise UsageError(f"--namespace-selector {item!r}: expected LABEL=VALUE (a Kubernetes label key and value)")
        labels[key] = value
    return labels


def check_actions(actions) -> list[str]:
    out = list(dict.fromkeys(actions or ["Deny"]))
    bad = [a for a in out if a not in ACTIONS]
    if bad:
        raise UsageError(f"--action {bad[0]!r}: expected one of {', '.join(ACTIONS)}")
    if "Deny" in out and "Warn" in out:  # the API server refuses this pair (admissionregistration validation)
        raise UsageError("--action: Deny and Warn cannot be combined (Deny already returns the message)")
    return out


def build(spec: Spec, name: str = DEFAULT_NAME, actions=("Deny",), namespace_labels: dict | None = None) -> list[dict]:
    """[ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding] for `spec`."""
    rules = [{"apiGroups": [group], "apiVersions": [version], "operations": ["CREATE", "UPDATE"],
              "resources": list(resources)} for group, version, resources in RESOURCES]
    policy = {
        "apiVersion": API_VERSION, "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "pxsec"}},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": rules},
            "matchConditions": _match_conditions(),
            "variables": _variables(),
            "validations": validations(spec),
        },
    }
    match: dict = {}
    if namespace_labels:
        match = {"namespaceSelector": {"matchLabels": dict(namespace_labels)}}
    binding = {
        "apiVersion": API_VERSION, "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "pxsec"}},
        "spec": {"policyName": name, "validationActions": list(actions), **({"matchResources": match} if match else {})},
    }
    return [policy, binding]


def to_yaml(objects: list[dict]) -> str:
    from .kubeyaml.kyaml import dump

    return "".join("---\n" + dump(o) for o in objects)
