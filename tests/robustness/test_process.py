"""Process-level checks: what only a real `python -m pxsec` process shows (traceback text,
exit codes after a signal, interpreter shutdown noise), on a sample of the generated inputs, on
very large inputs under an address-space cap, and on alias bombs.

Sample size: SAMPLE examples drawn (derandomized) from the same strategies as the in-process
tests, run two at a time; each exit-0 result is also rendered again in-process and compared
with what the process printed.
"""
from __future__ import annotations

import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from . import strategies as s
from .harness import (CANARIES, ROOT, assert_one_line_error, assert_render_contract, count, dump_spec, known_bug,
                      process_env, run_inprocess, run_process, scaled, write)

SAMPLE = scaled({"process_sample": 240})["process_sample"]
AS_LIMIT = 1536 * 2**20  # RLIMIT_AS for the large-input runs: 1.5 GB
BIG = 100 * 2**20

FIXED_SPEC = dump_spec(s.spec_doc({"selfSigned": {"issuer": "openstorage.io", "sharedSecret": True},
                                   "usernameClaim": "email"}))


def draw_sample(n: int) -> list[tuple[str, bytes]]:
    """n (spec text, stdin) pairs from the property tests' strategies, the same on every run."""
    cases = st.one_of(
        st.tuples(st.just(FIXED_SPEC), s.malformed_bytes()),
        st.tuples(st.just(FIXED_SPEC), s.odd_yaml_bytes()),
        st.tuples(s.spec_docs.map(dump_spec), s.manifest_texts.map(str.encode)),
        st.tuples(s.secret_create_spec_docs.map(dump_spec), s.manifest_texts.map(str.encode)),
    )
    out: list[tuple[str, bytes]] = []

    @settings(max_examples=n, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(cases)
    def collect(case):
        if not known_bug(*case):
            out.append(case)

    collect()
    return out


def test_process_sample(workdir):
    cases = draw_sample(SAMPLE)
    assert len(cases) >= SAMPLE * 0.8
    d = workdir / "proc"
    d.mkdir(exist_ok=True)

    def one(i_case):
        i, (spec_text, stdin) = i_case
        spec = write(d / f"spec-{i}.yaml", spec_text)
        return i, spec, stdin, run_process(["render", "-s", str(spec), "-"], stdin, env=CANARIES, timeout=60)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(one, enumerate(cases)))
    codes = {0: 0, 1: 0, 2: 0}
    for i, spec, stdin, o in results:
        count("process_sample")
        try:
            assert_render_contract(o, CANARIES, stdin)
            codes[o.code] += 1
            inproc = run_inprocess(["render", "-s", str(spec), "-"], stdin, env=CANARIES)
            assert (inproc.code, inproc.stdout) == (o.code, o.stdout), "process and in-process runs disagree"
            if o.code == 0:
                again = run_inprocess(["render", "-s", str(spec), "-"], o.stdout, env=CANARIES)
                assert again.code == 0 and again.stdout == o.stdout, "output does not render to itself"
        except AssertionError as e:
            raise AssertionError(f"case {i}: spec {spec.read_text()!r}\nstdin {stdin[:2000]!r}\n{e}") from None
    assert codes[0] and codes[1], f"the sample should both succeed and fail somewhere: {codes}"


# ------------------------------------------------------------------------------------ large inputs

def _cap_address_space():
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


def _big_stream() -> str:
    """~100 MB: the Portworx DaemonSet and Stork, then ConfigMaps and Deployments, repeated."""
    unit = ("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: team}\ndata:\n  conf: |\n"
            + "    some configuration line with words in it\n" * 8
            + "---\n" + s.STORK.replace("name: stork,", "name: other,").replace("- name: stork", "- name: app"))
    return s.PX_DS + "---\n" + s.STORK + unit * (BIG // len(unit) + 1)


LARGE = {
    "many-documents": _big_stream,
    "one-100MB-scalar-in-the-portworx-daemonset": lambda: s.PX_DS.replace(
        "  namespace: kube-system\n",
        "  namespace: kube-system\n  annotations:\n    blob: |\n" + ("      " + "y" * 73 + "\n") * (BIG // 80)),
    "tiny-documents": lambda: "---\na: 1\n" * (BIG // 9),
}


@pytest.mark.parametrize("name", sorted(LARGE))
def test_100MB_input_succeeds_or_fails_cleanly_within_bounded_memory(workdir, name):
    path = workdir / f"large-{name}.yaml"
    path.write_text(LARGE[name](), encoding="utf-8")
    spec = write(workdir / "large-spec.yaml", FIXED_SPEC)
    out = workdir / f"large-{name}.out"
    try:
        t0 = time.monotonic()
        p = subprocess.run([sys.executable, "-m", "pxsec", "render", "-s", str(spec), str(path), "-o", str(out)],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=process_env(), cwd=ROOT, preexec_fn=_cap_address_space, timeout=300)
        elapsed = time.monotonic() - t0
        err = p.stderr.decode("utf-8", "replace")
        assert p.returncode in (0, 1), f"exit {p.returncode} after {elapsed:.0f} s: {err[-2000:]}"
        assert "Traceback" not in err, err[-4000:]
        assert "internal error" not in err, err
        if p.returncode == 1:
            assert [ln for ln in err.split("\n") if ln.strip()][-1].startswith("pxsec: error: "), err
            assert not out.exists(), "a failed render must not leave a partial output file"
        else:
            assert out.stat().st_size >= path.stat().st_size * 0.99
    finally:
        path.unlink(missing_ok=True)
        out.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------ alias bombs

def bomb_lines(indent: str) -> str:
    lines = [f"{indent}b0: &a0 [{', '.join(['lol'] * 9)}]"]
    lines += [f"{indent}b{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


BOMBS = {
    # a document nobody needs to construct
    "configmap": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n" + bomb_lines("  ")
                 + "  all: *a9\n",
    # inside a Portworx DaemonSet: the document a filter constructs and dumps
    "portworx-daemonset": s.PX_DS.replace("  namespace: kube-system\n",
                                          "  namespace: kube-system\n  labels:\n" + bomb_lines("    ")
                                          + "    all: *a9\n"),
    # in a List item
    "list": "apiVersion: v1\nkind: List\nbombs:\n" + bomb_lines("  ") + "items:\n- *a9\n",
}


@pytest.mark.parametrize("where", sorted(BOMBS))
def test_alias_bomb_in_the_stream_is_refused_quickly(workdir, where):
    spec = write(workdir / "bomb-ok-spec.yaml", FIXED_SPEC)
    stdin = (BOMBS[where] + "---\n" + s.STORK).encode()
    t0 = time.monotonic()
    o = run_process(["render", "-s", str(spec), "-"], stdin, timeout=10)  # hang guard (refusal: ~0.1 s)
    assert o.code == 1, f"exit {o.code} after {time.monotonic() - t0:.1f} s: {o.stderr[-500:]}"
    assert o.stdout == b""
    assert "Traceback" not in o.stderr
    assert_one_line_error(o)


@pytest.mark.parametrize("where", ["items", "functionConfig"])
def test_alias_bomb_in_a_resource_list_is_refused_quickly(where):
    if where == "items":
        text = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nbombs:\n" + bomb_lines("  ")
                + "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: lol}\n  data: {all: *a9}\n"
                + "functionConfig:\n  apiVersion: pxsec.io/v1alpha1\n  kind: PortworxSecurity\n"
                + "  metadata: {name: x}\n  spec: {selfSigned: {issuer: openstorage.io, sharedSecret: true}}\n")
    else:
        text = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n"
                + "  apiVersion: pxsec.io/v1alpha1\n  kind: PortworxSecurity\n  metadata:\n    name: x\n"
                + "    labels:\n" + bomb_lines("      ") + "      all: *a9\n"
                + "  spec: {selfSigned: {issuer: openstorage.io, sharedSecret: true}}\n")
    try:
        o = run_process([], text.encode(), timeout=10)  # hang guard (refusal: ~0.1 s)
    except subprocess.TimeoutExpired:
        pytest.fail("no answer within 10 s")
    assert o.code == 1, f"exit {o.code}: {o.stderr[-500:]}"
    assert "Traceback" not in o.stderr
    assert_one_line_error(o)


# ------------------------------------------------------------------------------------ pipes

def test_closed_stdout_exits_nonzero_without_a_traceback(workdir):
    """`pxsec render ... | head -1`: the reader goes away; pxsec must not print a traceback."""
    spec = write(workdir / "pipe-spec.yaml", FIXED_SPEC)
    data = (s.PX_DS + "---\n" + s.STORK + "---\n" + s.huge_block(200_000)).encode()
    p = subprocess.Popen([sys.executable, "-m", "pxsec", "render", "-s", str(spec), "-"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=process_env(), cwd=ROOT)
    p.stdout.close()  # nobody reads
    _, err = p.communicate(data, timeout=60)
    err = err.decode("utf-8", "replace")
    assert p.returncode in (0, 1), err  # 1: the pipe broke; 0 only if everything fit in the pipe buffer
    assert "Traceback" not in err and "Exception ignored" not in err, err
