"""One readable before/after example per filter (as kustomize gives each filter an example test).

Each filter is a pure function over one object: `apply(obj, spec, location) -> Report`, editing
`obj` in place. The examples show what a user's object becomes, nothing else.
"""
from __future__ import annotations

import yaml

from pxsec import spec as specmod
from pxsec.errors import Location
from pxsec.render.filters import autopilot, envfrom, portworx_daemonset, stork, storagecluster
from pxsec.render.stream import Stream

SPEC = specmod.build({"secret": {"name": "px-keys"}, "selfSigned": {"issuer": "openstorage.io", "sharedSecret": True},
                      "usernameClaim": "email"})
LOC = Location("example.yaml", 0, "DaemonSet", "portworx", "kube-system")


def example(filter_apply, before: str, after: str, spec=SPEC):
    obj = yaml.safe_load(before)
    filter_apply(obj, spec, LOC)
    assert obj == yaml.safe_load(after)
    again = filter_apply(obj, spec, LOC)  # idempotent: a second run changes nothing
    assert again.changes == [] and obj == yaml.safe_load(after)


def ref(name, key):
    return {"secretKeyRef": {"name": "px-keys", "key": key}}


def test_portworx_daemonset():
    example(portworx_daemonset.apply, """
kind: DaemonSet
spec:
  template:
    spec:
      containers:
      - name: portworx
        image: portworx/oci-monitor:3.1.0
        command: [/px-oci-mon, -oidc_issuer, https://stale.example.com]
        args: [-c, px-cluster, -jwt_issuer, old-issuer]
        env:
        - {name: PORTWORX_AUTH_SYSTEM_KEY, value: a-literal-secret}
""", """
kind: DaemonSet
spec:
  template:
    spec:
      containers:
      - name: portworx
        image: portworx/oci-monitor:3.1.0
        command: [/px-oci-mon]
        args: [-c, px-cluster, -jwt_issuer, openstorage.io, -username_claim, email]
        env:
        - {name: PORTWORX_AUTH_SYSTEM_KEY, valueFrom: {secretKeyRef: {name: px-keys, key: system-secret}}}
        - {name: PORTWORX_AUTH_STORK_KEY, valueFrom: {secretKeyRef: {name: px-keys, key: stork-secret}}}
        - {name: PORTWORX_AUTH_JWT_SHAREDSECRET, valueFrom: {secretKeyRef: {name: px-keys, key: shared-secret}}}
""")


def test_stork():
    example(stork.apply, """
kind: Deployment
spec:
  template:
    spec:
      containers:
      - {name: stork, image: openstorage/stork:2.12.0}
""", """
kind: Deployment
spec:
  template:
    spec:
      containers:
      - name: stork
        image: openstorage/stork:2.12.0
        env:
        - {name: PX_SHARED_SECRET, valueFrom: {secretKeyRef: {name: px-keys, key: stork-secret}}}
        - {name: PX_JWT_ISSUER, value: stork.openstorage.io}
""")


def test_autopilot():
    example(autopilot.apply, """
kind: Deployment
spec:
  template:
    spec:
      containers:
      - {name: autopilot, image: portworx/autopilot:1.3.0}
""", """
kind: Deployment
spec:
  template:
    spec:
      containers:
      - name: autopilot
        image: portworx/autopilot:1.3.0
        env:
        - {name: PX_SHARED_SECRET, valueFrom: {secretKeyRef: {name: px-keys, key: stork-secret}}}
        - {name: PX_JWT_ISSUER, value: stork.openstorage.io}
""")


def test_storagecluster_turns_security_on():
    obj = yaml.safe_load("""
apiVersion: core.libopenstorage.org/v1
kind: StorageCluster
metadata: {name: px-cluster, namespace: kube-system}
spec: {image: "portworx/oci-monitor:3.1.0"}
""")
    storagecluster.apply(obj, SPEC, LOC)
    assert obj["spec"]["security"]["enabled"] is True
    assert obj["spec"]["security"]["auth"]["selfSigned"]["issuer"] == "openstorage.io"
    assert "-username_claim email" in obj["metadata"]["annotations"]["portworx.io/misc-args"]
    assert storagecluster.apply(obj, SPEC, LOC).changes == []


def test_envfrom_removes_twins_from_an_in_stream_configmap():
    text = """apiVersion: v1
kind: ConfigMap
metadata: {name: px-env, namespace: kube-system}
data: {PORTWORX_AUTH_OIDC_ISSUER: "https://stale.example.com", PX_LOGLEVEL: info}
"""
    stream = Stream.from_sources([("in", text)])
    refs = [envfrom.Ref("ConfigMap", "px-env", "kube-system", "", "DaemonSet kube-system/portworx",
                        "spec.template.spec.containers[0].envFrom[0]")]
    warnings = envfrom.apply(stream, refs, SPEC)
    assert yaml.safe_load(stream.text())["data"] == {"PX_LOGLEVEL": "info"}
    assert len(warnings) == 1 and "PORTWORX_AUTH_OIDC_ISSUER" in warnings[0] and "stale" not in warnings[0]
