"""Property tests of `pxsec render`, in-process (pxsec.main.main with swapped stdio).

For every input: the exit code is 0, 1 or 2; nothing unexpected is raised (no traceback, no
"internal error"); exit 1 leaves stdout empty and prints one error line; exit 0 prints a YAML
stream that parses and that renders to itself again; the canary secrets in the environment
never reach stderr.

Budget (max_examples, derandomized, no example database; see harness.BUDGET for the total):
malformed YAML 2,000 + odd-but-valid YAML 2,000 + random manifests with random specs 3,500 +
random specs on a fixed manifest 1,500 + secret.create with canaries 1,200 = 10,200 in-process
renders here alone, each exit-0 one rendered a second time for the fixpoint check.
"""
from __future__ import annotations

import itertools

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from . import oracle
from . import strategies as s
from .harness import (CANARIES, SHORT_CANARIES, assert_render_contract, count, dump_spec, hypothesis_settings,
                      known_bug, outcome, run_inprocess, scaled, write)

SETTINGS = hypothesis_settings()
BUDGET = scaled({"render_malformed": 2000, "render_odd": 2000, "render_manifests": 3500, "render_specs": 1500,
                 "render_secret_create": 1200})

_serial = itertools.count()

FIXED_SPEC = dump_spec(s.spec_doc({"stork": {"enabled": True}, "selfSigned": {"issuer": "openstorage.io",
                                                                               "sharedSecret": True},
                                   "usernameClaim": "email"}))
CREATE_SPEC = dump_spec(s.create_secret_spec({"selfSigned": {"issuer": "openstorage.io", "sharedSecret": True}}))


def render(spec_path, stdin: bytes, env=None, extra=()) -> object:
    return run_inprocess(["render", "-s", str(spec_path), *extra, "-"], stdin, env)


def render_checked(spec_path, stdin: bytes, env=None, extra=(), name="render"):
    env = CANARIES if env is None else env
    o = render(spec_path, stdin, env, extra)
    assert_render_contract(o, env, stdin)
    outcome(name, o.code)
    if o.code == 0:
        again = render(spec_path, o.stdout, env, extra)
        assert_render_contract(again, env, o.stdout)
        assert again.code == 0, f"the output does not render again: {again.stderr!r}"
        assert again.stdout == o.stdout, "the output does not render to itself (not idempotent)"
        oracle.record(name, spec_path.read_bytes(), stdin, o.stdout)
    return o


def spec_file(workdir, text: str):
    return write(workdir / f"spec-{next(_serial) % 64}.yaml", text)


@settings(max_examples=BUDGET["render_malformed"], **SETTINGS)
@given(data=s.malformed_bytes())
def test_malformed_yaml(workdir, data):
    assume(not known_bug(stream=data))
    count("render_malformed")
    render_checked(spec_file(workdir, FIXED_SPEC), data, name="render_malformed")


@settings(max_examples=BUDGET["render_odd"], **SETTINGS)
@given(data=s.odd_yaml_bytes(), create=st.booleans())
def test_odd_but_valid_yaml(workdir, data, create):
    assume(not known_bug(stream=data))
    count("render_odd")
    render_checked(spec_file(workdir, CREATE_SPEC if create else FIXED_SPEC), data, name="render_odd")


@settings(max_examples=BUDGET["render_manifests"], **SETTINGS)
@given(text=s.manifest_texts, spec=s.spec_docs)
def test_random_manifests_and_specs(workdir, text, spec):
    spec_text = dump_spec(spec)
    assume(not known_bug(spec_text, text))
    count("render_manifests")
    render_checked(spec_file(workdir, spec_text), text.encode("utf-8"), name="render_manifests")


SPEC_TEXTS = st.one_of(
    s.spec_docs.map(dump_spec),
    s.seeds.map(lambda r: s.mutate(r, s.mutate(r, s.gen_spec_doc(r)))).map(dump_spec),
    st.builds(lambda a, b: a + "---\n" + b, s.spec_docs.map(dump_spec), s.spec_docs.map(dump_spec)),
    s.malformed_bytes().map(lambda b: b.decode("utf-8", "replace")),
    st.sampled_from(["", "---\n", "null\n", "[]\n", "42\n", "apiVersion: pxsec.io/v1alpha1\n"]),
)


@settings(max_examples=BUDGET["render_specs"], **SETTINGS)
@given(spec_text=SPEC_TEXTS, bom=st.booleans(), crlf=st.booleans())
def test_random_specs_on_the_px_manifest(workdir, spec_text, bom, crlf):
    if crlf:
        spec_text = spec_text.replace("\n", "\r\n")
    data = (b"\xef\xbb\xbf" if bom else b"") + spec_text.encode("utf-8")
    assume(not known_bug(data))
    count("render_specs")
    render_checked(write(workdir / f"spec-{next(_serial) % 64}.yaml", data),
                   (s.PX_DS + "---\n" + s.STORK).encode(), name="render_specs")


ENVS = st.sampled_from([CANARIES, SHORT_CANARIES, {k: v for k, v in CANARIES.items() if "STORK" not in k},
                        {"PORTWORX_AUTH_SYSTEM_KEY": CANARIES["PORTWORX_AUTH_SYSTEM_KEY"],
                         "PORTWORX_AUTH_STORK_KEY": CANARIES["PORTWORX_AUTH_SYSTEM_KEY"],
                         "PORTWORX_AUTH_JWT_SHAREDSECRET": CANARIES["PORTWORX_AUTH_JWT_SHAREDSECRET"]}])


@settings(max_examples=BUDGET["render_secret_create"], **SETTINGS)
@given(text=s.manifest_texts | s.odd_yaml_bytes().map(lambda b: b.decode("utf-8", "replace")),
       spec=s.secret_create_spec_docs, env=ENVS, allow_short=st.booleans(), verbose=st.booleans())
def test_secret_create_never_leaks(workdir, text, spec, env, allow_short, verbose):
    spec_text = dump_spec(spec)
    assume(not known_bug(spec_text, text))
    count("render_secret_create")
    extra = (["--allow-short-secrets"] if allow_short else []) + (["-v"] if verbose else [])
    render_checked(spec_file(workdir, spec_text), text.encode("utf-8"), env, extra, name="render_secret_create")
