"""Property tests of the kustomize legacy exec plugin mode (`pxsec CONFIG_FILE`, resources on
stdin), in-process. Skipped while renderer/adapters/legacy.py does not exist.

Same contract as `render`: exit 0/1/2, no traceback or internal error, no canary secret on
stderr, exit 1 = empty stdout (kustomize must not get a partial stream) and one error line,
exit 0 = a stream that goes through the plugin again unchanged.

Budget: random resources with random plugin configs 800 + malformed/odd stdin 400.
"""
from __future__ import annotations

import itertools

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from . import oracle
from . import strategies as s
from .harness import (CANARIES, assert_render_contract, count, dump_spec, hypothesis_settings, known_bug,
                      outcome, run_inprocess, scaled, write)


SETTINGS = hypothesis_settings()
BUDGET = scaled({"legacy_resources": 800, "legacy_raw": 400})
_serial = itertools.count()


def plugin(workdir, config: str, stdin: bytes, name: str) -> None:
    path = write(workdir / f"plugin-config-{next(_serial) % 64}.yaml", config)
    o = run_inprocess([str(path)], stdin, CANARIES)
    assert_render_contract(o, CANARIES, stdin)
    outcome(name, o.code)
    if o.code == 0:
        again = run_inprocess([str(path)], o.stdout, CANARIES)
        assert_render_contract(again, CANARIES, o.stdout)
        assert again.code == 0 and again.stdout == o.stdout, "the plugin's output does not go through unchanged"
        oracle.record(name, config, stdin, o.stdout)


CONFIGS = st.one_of(s.spec_docs, s.secret_create_spec_docs).map(dump_spec)


@settings(max_examples=BUDGET["legacy_resources"], **SETTINGS)
@given(config=CONFIGS, text=s.manifest_texts)
def test_plugin_random_resources(workdir, config, text):
    assume(not known_bug(config, text))
    count("legacy_resources")
    plugin(workdir, config, text.encode("utf-8"), "legacy_resources")


@settings(max_examples=BUDGET["legacy_raw"], **SETTINGS)
@given(data=st.one_of(s.malformed_bytes(), s.odd_yaml_bytes()))
def test_plugin_raw_stdin(workdir, data):
    assume(not known_bug(stream=data))
    count("legacy_raw")
    config = dump_spec(s.spec_doc({"selfSigned": {"issuer": "openstorage.io", "sharedSecret": True}}))
    plugin(workdir, config, data, "legacy_raw")
