"""Where check's findings point when the location comes from render (PXS020): the field text of
render's error is matched against the document's node paths (never parsed back), so the line is
the field's own line, inside Lists and for annotation keys with dots and slashes too."""
from __future__ import annotations

import yaml

from check.manifests import container, line_of, of, portworx, storagecluster, text
from pxsec import audit
from pxsec import spec as specmod
from pxsec.audit.drift import located
from pxsec.stream import Stream

SPEC = specmod.from_document(yaml.safe_load("""
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
spec:
  stork: {enabled: false}
  selfSigned: {issuer: openstorage.io, sharedSecret: true}
"""), "<spec>")


def _node(obj):
    [doc] = Stream.from_sources([("in.yaml", text(obj))]).documents
    return doc.node


def test_render_refusal_points_at_the_refused_field_line():
    ds = portworx()
    container(ds)["command"] = ["sh", "-c", "/px-oci-mon"]
    src = text(ds)
    [f] = of(audit.check([("in.yaml", src)], SPEC).findings, "PXS020")
    assert f.field == "spec.template.spec.containers[0].command" and f.line == line_of(src, "command:")


def test_refusal_inside_a_list_points_at_the_item_field():
    ds = portworx()
    container(ds)["command"] = ["sh", "-c", "/px-oci-mon"]
    src = text({"apiVersion": "v1", "kind": "List", "items": [ds]})
    [f] = of(audit.check([("in.yaml", src)], SPEC).findings, "PXS020")
    assert f.field == "items[0].spec.template.spec.containers[0].command" and f.line == line_of(src, "command:")


def test_located_matches_keys_with_dots_and_falls_back_to_the_nearest_parent():
    sc = storagecluster()
    sc["metadata"]["annotations"] = {"portworx.io/misc-args": "-a 'b"}
    node = _node(sc)
    assert located(node, "metadata.annotations.portworx.io/misc-args") == (
        "metadata", "annotations", "portworx.io/misc-args")
    assert located(node, "spec.security.auth.notthere") == ("spec", "security", "auth")
    assert located(node, "") == () and located(node, "nowhere") == ()
    assert located(_node(portworx()), "spec.template.spec.containers[0].env[9]") == (
        "spec", "template", "spec", "containers", 0, "env")
