"""pxsec.render.selfcheck: render proves its own output before writing it. A changed document's
text is cut as Kubernetes cuts a stream (k8ssplit) and must be one document; the object judged
is what the patcher read back from exactly that YAML, or, when the texts differ, a full read."""
from __future__ import annotations

import pytest

from conftest import CORPUS, require_corpus
from pxsec import spec as specmod
from pxsec.errors import PxsecError
from pxsec.kubeyaml import yamlsafe
from pxsec.render import patch, pipeline, stream

SPEC = specmod.build({"selfSigned": {"issuer": "openstorage.io", "sharedSecret": True}, "usernameClaim": "email"})
CHART = "px-daemonset-spec-all-components-csi-stork-autopilot-px2.8.yaml"


def _render():
    require_corpus()
    path = CORPUS / "manifests" / CHART
    return pipeline.render([(path.name, path.read_text())], SPEC)


def test_each_target_is_read_back_once(monkeypatch):
    """The patcher's read of its edit is the proof's: a changed document is composed twice in all
    (its input, its output), where the proof used to compose its output a second time."""
    composed = []
    real = yamlsafe.compose

    def counting(chunk, *args):
        composed.append(chunk)
        return real(chunk, *args)

    monkeypatch.setattr(yamlsafe, "compose", counting)
    monkeypatch.setattr(stream, "compose", counting)
    require_corpus()
    path = CORPUS / "manifests" / CHART
    parsed = stream.Stream.from_sources([(path.name, path.read_text())],
                                        lambda doc: pipeline.role_of_document(doc, SPEC), pipeline.worth_composing(SPEC))
    on_input = len(composed)
    result = pipeline.render_stream(parsed, SPEC)
    changed = [d for d in result.documents if d.changed and not d.generated]
    assert len(changed) >= 3 and len(composed) - on_input == len(changed)


def test_a_patched_text_kubernetes_cuts_in_two_is_refused(monkeypatch):
    """The patcher's read proves one YAML document; the proof still cuts the text as Kubernetes
    does, and a `---` line the patcher let in makes two documents: refused, nothing written."""
    real = patch.patch_read

    def splitting(text, *args):
        done = real(text, *args)
        return None if done is None else (done[0] + "---\nkind: ConfigMap\n", done[1])

    monkeypatch.setattr(patch, "patch_read", splitting)
    with pytest.raises(PxsecError, match="reads back as 2 documents"):
        _render()


def test_a_text_other_than_the_one_read_is_read_in_full(monkeypatch):
    """When the text written is not the one the patcher read (here: a comment appended after its
    read), the proof reads the written text itself and judges that."""
    real_emit = stream.Document._emit_changed
    reads = []

    def commented(self):
        return real_emit(self) + "# appended after the read\n"

    real_parse = stream.parse

    def parse(text, *args, **kw):
        if kw.get("worth_composing") is None:
            reads.append(text)
        return real_parse(text, *args, **kw)

    monkeypatch.setattr(stream.Document, "_emit_changed", commented)
    monkeypatch.setattr(stream, "parse", parse)
    result = _render()
    changed = [d for d in result.documents if d.changed and not d.generated]
    assert changed and all(d._written_read is not None for d in changed)
    assert len([r for r in reads if r.endswith("# appended after the read\n")]) == len(changed)
