#!/usr/bin/env python3
"""Where pxsec spends its time: a cProfile of one in-process render of the large stream and a
`python -X importtime` summary of the start-up. Writes nothing into the repo.

    python bench/profile.py                 # both, top 25 functions by own time and by cumulative time
    python bench/profile.py --docs 12000    # profile a bigger stream
    python bench/profile.py --only render|startup --top 40

The render profile calls the same code the CLI does (spec.load, sources.read_inputs,
pipeline.render, the UTF-8 encode of the output), without the interpreter start-up; the import
profile runs `pxsec render` on the small manifest under -X importtime, as a child process.
"""
from __future__ import annotations

import sys

# This file is named like the stdlib `profile` module that cProfile imports: keep its folder off
# sys.path while importing the standard library.
_HERE = sys.path.pop(0) if sys.path and sys.path[0].endswith("bench") else None

import argparse  # noqa: E402
import cProfile
import io
import pstats
import subprocess
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.append(str(Path(__file__).resolve().parent))
import benchlib as b  # noqa: E402


def profile_render(docs: int, top: int) -> None:
    sys.path.insert(0, str(b.REPO))
    from pxsec.render import pipeline
    from pxsec import sources, spec as specmod

    with tempfile.TemporaryDirectory(prefix="pxsec-profile-") as tmp:
        spec_path = Path(tmp) / "spec.yaml"
        spec_path.write_text(b.SPEC, encoding="utf-8")
        stream = Path(tmp) / "stream.yaml"
        stream.write_text(b.large_stream(docs), encoding="utf-8")
        size = stream.stat().st_size

        def once() -> int:
            spec = specmod.load(str(spec_path))
            inputs = sources.read_inputs([str(stream)])
            result = pipeline.render(inputs, spec, environ={})
            return len(result.text.encode("utf-8"))

        once()  # warm: imports, jsonschema, lru caches
        t0 = time.perf_counter()
        once()
        plain = time.perf_counter() - t0
        prof = cProfile.Profile()
        prof.enable()
        out = once()
        prof.disable()
        tracemalloc.start()
        once()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(f"== in-process render: {docs} documents, {size / 1e6:.2f} MB in, {out / 1e6:.2f} MB out; "
          f"{plain * 1000:.0f} ms without the profiler; Python-heap peak {peak / 2**20:.1f} MB (tracemalloc)")
    for key in ("tottime", "cumulative"):
        s = io.StringIO()
        pstats.Stats(prof, stream=s).strip_dirs().sort_stats(key).print_stats(top)
        text = s.getvalue()
        start = text.find("   ncalls")
        print(f"\n-- top {top} by {key} --")
        print(text[start:].rstrip())


def profile_startup(top: int) -> None:
    pxsec, desc = b.pxsec_command()
    if pxsec[0] != sys.executable:
        # -X importtime needs the interpreter: run the module from this checkout
        pxsec, desc = [sys.executable, "-m", "pxsec"], f"{sys.executable} -m pxsec"
    with tempfile.TemporaryDirectory(prefix="pxsec-profile-") as tmp:
        spec_path = Path(tmp) / "spec.yaml"
        spec_path.write_text(b.SPEC, encoding="utf-8")
        argv = [pxsec[0], "-X", "importtime"] + pxsec[1:] + ["render", "-s", str(spec_path), str(b.PX_MANIFEST)]
        p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=b.child_env(pxsec))
    rows = []  # (self us, cumulative us, depth, name)
    for line in p.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cum_us, name = line[len("import time:"):].split("|", 2)
        depth = (len(name) - len(name.lstrip(" "))) // 2
        rows.append((int(self_us), int(cum_us), depth, name.strip()))
    total_self = sum(r[0] for r in rows)
    print(f"\n== start-up imports: `{desc} render` on the small manifest under -X importtime: "
          f"{len(rows)} modules, {total_self / 1000:.0f} ms of import time in total")
    top_level = sorted((r for r in rows if r[2] == 0), key=lambda r: -r[1])[:top]
    print("\n-- top-level imports by cumulative time (each includes what it pulls in) --")
    for self_us, cum_us, _, name in top_level:
        print(f"{cum_us / 1000:8.1f} ms  {name}")
    by_pkg: dict[str, int] = {}
    for self_us, _, _, name in rows:
        by_pkg[name.split(".")[0]] = by_pkg.get(name.split(".")[0], 0) + self_us
    print("\n-- own import time summed by top-level package --")
    for pkg, us in sorted(by_pkg.items(), key=lambda kv: -kv[1])[:top]:
        print(f"{us / 1000:8.1f} ms  {pkg}")
    if p.returncode != 0:
        print(f"(note: the profiled render exited {p.returncode})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=6000, help="documents in the generated stream (6000)")
    ap.add_argument("--top", type=int, default=25, help="rows per listing (25)")
    ap.add_argument("--only", choices=("render", "startup"), help="print only one of the two profiles")
    args = ap.parse_args()
    if args.only != "startup":
        profile_render(args.docs, args.top)
    if args.only != "render":
        profile_startup(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
