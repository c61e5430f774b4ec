"""Where check's findings point when the location comes from render (PXS020): render's error
carries the field as a node path (never parsed back from its text), so the line is the field's
own line, inside Lists and for annotation keys with dots and slashes too."""
from __future__ import annotations

import pytest
import yaml

from check.manifests import container, line_of, of, portworx, storagecluster, text
from pxsec import audit
from pxsec import spec as specmod
from pxsec.render import pipeline
from pxsec.errors import PxsecError

SPEC = specmod.from_document(yaml.safe_load("""
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
spec:
  stork: {enabled: false}
  selfSigned: {issuer: openstorage.io, sharedSecret: true}
"""), "<spec>")


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


def test_render_error_carries_the_node_path_as_data():
    """The path is data on render's error (errors.Location.path), written as text only for the
    message: an annotation key with dots and slashes stays one key."""
    ds = portworx()
    container(ds)["command"] = ["sh", "-c", "/px-oci-mon"]
    src = text({"apiVersion": "v1", "kind": "List", "items": [ds]})
    with pytest.raises(PxsecError) as e:
        pipeline.render([("in.yaml", src)], SPEC)
    assert e.value.location.path == ("items", 0, "spec", "template", "spec", "containers", 0, "command")
    assert e.value.location.field == "items[0].spec.template.spec.containers[0].command"


def test_misc_args_error_points_at_the_annotation_key_line():
    sc = storagecluster()
    sc["metadata"]["annotations"] = {"portworx.io/misc-args": "-a 'b"}
    src = text(sc)
    [f] = of(audit.check([("in.yaml", src)], SPEC).findings, "PXS020")
    assert f.field == "metadata.annotations.portworx.io/misc-args"
    assert f.line == line_of(src, "portworx.io/misc-args")
