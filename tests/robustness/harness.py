"""Harness of the robustness suite: run pxsec in-process (fast, for thousands of examples) or as
a process (for exit codes and traceback text), with canary secrets in the environment, and count
the generated examples so the suite can show it tried at least 10,000 of them.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]

# One canary per secret variable: long enough for secret.create (>= 32 bytes), unique, and
# unlikely to appear in any input by chance. A short one exercises the "too short" error path.
CANARIES = {
    "PORTWORX_AUTH_SYSTEM_KEY": "CANARY-system-7f3a9c1e5b2d4f6a8e0c1b3d5f7a9c1e",
    "PORTWORX_AUTH_STORK_KEY": "CANARY-stork-0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e",
    "PORTWORX_AUTH_JWT_SHAREDSECRET": "CANARY-shared-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
}
SHORT_CANARIES = {k: v[:16] for k, v in CANARIES.items()}
# Variables the core reads that must not leak in from the developer's shell.
SCRUB = ("PXSEC_DEBUG", "PXSEC_SPEC", "PXSEC_LOG_FILE", "PXSEC_NO_CACHE", "PORTWORX_AUTH_SYSTEM_APPS_KEY") \
    + tuple(CANARIES)
# The spec validation cache (spec._cache_marker) goes to a directory of this run, not ~/.cache:
# thousands of random specs would otherwise leave thousands of marker files behind.
CACHE_DIR = tempfile.mkdtemp(prefix="pxsec-robust-cache-")
FIXED_ENV = {"PXSEC_CACHE_DIR": CACHE_DIR}


def leaks(text: str | bytes, canaries: dict[str, str]) -> list[str]:
    """Canary values (raw or base64, as a Secret's data would carry them) found in `text`."""
    import base64

    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    found = []
    for var, value in canaries.items():
        forms = (value, base64.b64encode(value.encode()).decode(), value[6:])
        if any(f in text for f in forms):
            found.append(var)
    return found


# ------------------------------------------------------------------------------------ running

@dataclass
class Outcome:
    code: int
    stdout: bytes
    stderr: str

    @property
    def stderr_lines(self) -> list[str]:
        # Lines as a terminal or a log shows them: split on "\n" only. A carriage return or other
        # control character echoed from the input is a separate, known issue (test_known_bugs.py).
        return [ln for ln in self.stderr.split("\n") if ln.strip()]


class _Stdin(io.TextIOWrapper):
    def isatty(self) -> bool:  # a pipe
        return False


def run_inprocess(argv: list[str], stdin: bytes = b"", env: dict[str, str] | None = None,
                  cwd: Path | None = None) -> Outcome:
    """`pxsec.main.main(argv)` with stdin/stdout/stderr and the secret variables swapped in."""
    from pxsec import main as pxmain

    fake_in = _Stdin(io.BytesIO(stdin), encoding="utf-8")
    out_bytes = io.BytesIO()
    fake_out = io.TextIOWrapper(out_bytes, encoding="utf-8", write_through=True)
    fake_err = io.StringIO()
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    saved_env = {k: os.environ.get(k) for k in set(SCRUB) | set(env or {}) | set(FIXED_ENV)}
    saved_cwd = os.getcwd() if cwd else None
    try:
        for k in SCRUB:
            os.environ.pop(k, None)
        os.environ.update(FIXED_ENV)
        os.environ.update(env or {})
        if cwd:
            os.chdir(cwd)
        sys.stdin, sys.stdout, sys.stderr = fake_in, fake_out, fake_err
        try:
            code = pxmain.main(list(argv))
        except SystemExit as e:  # main() returns its code; a SystemExit escaping is a finding too
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            fake_err.write(f"[harness] SystemExit escaped main(): {e.code!r}\n")
        fake_out.flush()
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if saved_cwd:
            os.chdir(saved_cwd)
    return Outcome(code, out_bytes.getvalue(), fake_err.getvalue())


def process_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUB}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(FIXED_ENV)
    env.update(extra or {})
    return env


def run_process(argv: list[str], stdin: bytes = b"", env: dict[str, str] | None = None, timeout: float = 60,
                preexec_fn=None, stdin_path: Path | None = None, cwd: Path | None = None) -> Outcome:
    """pxsec as a process (`python -m pxsec` from this checkout)."""
    kw = dict(stdin=open(stdin_path, "rb")) if stdin_path else dict(input=stdin)
    try:
        p = subprocess.run([sys.executable, "-m", "pxsec", *argv], capture_output=True, timeout=timeout,
                           env=process_env(env), cwd=cwd or ROOT, preexec_fn=preexec_fn, **kw)
    finally:
        if stdin_path:
            kw["stdin"].close()
    return Outcome(p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"))


# ------------------------------------------------------------------------------------ invariants

def assert_no_crash(o: Outcome, canaries: dict[str, str] | None = None) -> None:
    assert o.code in (0, 1, 2), f"exit code {o.code}; stderr: {o.stderr[-2000:]}"
    assert "Traceback" not in o.stderr, o.stderr[-4000:]
    assert "internal error" not in o.stderr, f"unexpected exception inside pxsec: {o.stderr.strip()}"
    assert "[harness]" not in o.stderr, o.stderr
    bad = leaks(o.stderr, canaries or {})
    assert not bad, f"secret value(s) of {bad} on stderr: {o.stderr!r}"


def assert_one_line_error(o: Outcome) -> None:
    lines = o.stderr_lines
    assert len(lines) == 1 and lines[0].startswith("pxsec: error: "), f"not a one-line error: {o.stderr!r}"


def assert_render_contract(o: Outcome, canaries: dict[str, str] | None = None, stdin: bytes | None = None) -> None:
    """exit 0/1/2, no traceback, no secret on stderr; exit 1 = empty stdout + one error line;
    exit 0 = a stream whose chunks, as Kubernetes cuts them, parse as YAML, except chunks render
    passed through as the input had them (`stdin`): render scans, not parses, the documents it
    does not touch (issue 23), so it never writes a document it cannot read, only passes one on
    (the render-to-itself check is the caller's)."""
    assert_no_crash(o, canaries)
    if o.code == 1:
        assert o.stdout == b"", f"exit 1 with output on stdout ({len(o.stdout)} bytes)"
        assert_one_line_error(o)
    if o.code == 0:
        assert not any(ln.startswith("pxsec: error") for ln in o.stderr_lines), o.stderr
        text = o.stdout.decode("utf-8")
        given = stdin.decode("utf-8", "replace") if stdin is not None else None
        for chunk in k8s_chunks(text):
            try:
                list(yaml.compose_all(chunk, Loader=yaml.CSafeLoader))  # parses (tags may be custom: compose only)
            except yaml.YAMLError:
                if given is None or chunk.strip() not in given:
                    raise


_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


def k8s_chunks(text: str) -> list[str]:
    """The chunks Kubernetes hands to YAML (apimachinery YAMLReader.Read, written here again,
    independent of the code under test): lines end at `\\n`; a line starting with `---` (then
    nothing or a comment, after Go's TrimSpace) ends a non-empty chunk and is dropped, and is
    content when nothing was read since the last chunk. A JSON stream (`{` first) is skipped."""
    if text.lstrip(_GO_SPACE).startswith("{"):
        return []
    chunks, buf = [], []
    for line in _lines(text):
        rest = line[3:].strip(_GO_SPACE)
        if line.startswith("---") and (not rest or rest[0] == "#") and buf:
            chunks.append("".join(buf))
            buf = []
            continue
        buf.append(line)
    if buf:
        chunks.append("".join(buf))
    return chunks


def _lines(text: str) -> list[str]:
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


# ------------------------------------------------------------------------------------ files



def write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def dump_spec(doc) -> str:
    return yaml.dump(doc, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True)


# ------------------------------------------------------------------------------------ budget


# Examples each property test is set to try (max_examples). The session asserts the total of
# what actually ran is at least MIN_TOTAL when every budgeted test ran (see test_budget.py).
MIN_TOTAL = 10_000
EXAMPLES: Counter = Counter()


OUTCOMES: Counter = Counter()  # (test, exit code) -> runs: shows the inputs reach both success and failure


def count(name: str) -> None:
    EXAMPLES[name] += 1


def outcome(name: str, code: int) -> None:
    OUTCOMES[(name, code)] += 1


def hypothesis_settings() -> dict:
    """Settings of every property test: reproducible in CI (derandomized, no example database);
    PXSEC_ROBUST_RANDOM=1 draws fresh examples instead, for a local bug hunt (with a larger
    PXSEC_ROBUST_SCALE)."""
    from hypothesis import HealthCheck

    return dict(deadline=None, derandomize=not os.environ.get("PXSEC_ROBUST_RANDOM"), database=None,
                print_blob=True, suppress_health_check=list(HealthCheck))


def scaled(budget: dict[str, int]) -> dict[str, int]:
    """The budget, scaled by PXSEC_ROBUST_SCALE (e.g. 0.05 for a quick local look; CI uses 1)."""
    factor = float(os.environ.get("PXSEC_ROBUST_SCALE", "1"))
    return {k: max(1, int(v * factor)) for k, v in budget.items()}


# ------------------------------------------------------------------------------------ known bugs

# (input test, reason) pairs: inputs that would only re-find a core bug already pinned by a strict
# xfail in test_known_bugs.py. Empty while no such bug is open. (The first batch -- `!!int x`
# style tags, non-string spec keys -- was fixed in the core and its filters removed.)
KNOWN_BUGS: list[tuple] = []


def known_bug(spec: bytes | str | None = None, stream: bytes | str | None = None) -> str | None:
    """Why an input would only re-find a core bug already pinned by test_known_bugs.py, else None.

    Property tests `assume()` these away so they keep hunting for new bugs; remove an entry when
    its strict-xfail test starts passing.
    """
    for test, reason in KNOWN_BUGS:
        if test(spec, stream):
            return reason
    return None
