"""The issue-23 figures: every step linear in the stream, start-up near the interpreter's, check
near render. Each figure is a ratio of two whole-process measurements taken in the same run, on
the same machine, interleaved so drift hits both alike:

  scaling     pxsec render on 24,000 documents / on 6,000 (a `100%` in a ConfigMap of both
              streams: a `%` once made the split quadratic)                    goal <= 4.6x
  bytes       pxsec render on 60,000 documents (~19 MB+) / a byte floor: Python reading the
              stream, counting `---` and writing it back                       goal <= 10x
  memory      pxsec's peak RSS on that stream / (2 x its size + 20 MB)        goal <= 1x
  start-up    pxsec render of the small chart (51 documents) / `python -c "import yaml"`
                                                                              goal <= 1.3x
              and, for reference, / PyYAML imported as the pxsec command imports it (its
              import-time patterns deferred: kubeyaml/pyyaml.py): pxsec's own share
  libyaml     pxsec render on 6,000 documents / a libyaml load_all + dump_all of them
                                                                              goal <= 0.10x
  check time  pxsec check --spec / pxsec render --spec, 6,000 documents      goal <= 2x
  check RSS   the same, peak RSS                                              goal <= 2x

Benchmarks measure; the test suite has no timing in it.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import benchlib as b

# PyYAML as the pxsec command imports it (kubeyaml/pyyaml.py: its import-time patterns deferred):
# the reference row shows what pxsec itself adds on top of loading YAML support
OWN_YAML_IMPORT = "from pxsec.kubeyaml.pyyaml import import_pyyaml; import_pyyaml()"
BYTE_FLOOR = ("import sys; data = sys.stdin.buffer.read(); n = data.count(b'\\n---'); "
              "sys.stdout.buffer.write(data); sys.stderr.write(str(n))")
LIBYAML = ("import sys, yaml; yaml.dump_all(yaml.load_all(sys.stdin.buffer, Loader=yaml.CSafeLoader), "
           "sys.stdout, Dumper=yaml.CSafeDumper)")
PERCENT = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: quota\ndata:\n  ratio: 100%\n"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def median(runs: list[b.Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def stream_file(tmp: Path, n: int) -> Path:
    """`n` documents: the Portworx manifest, then Deployments and ConfigMaps, one of them with a `%`."""
    text = b.large_stream(n)
    cut = text.index("\n---\n", len(text) // 2) + 1  # the `%` in the middle: every marker after it is scanned
    path = tmp / f"stream{n}.yaml"
    path.write_text(text[:cut] + PERCENT + text[cut:], encoding="utf-8")
    return path


def timed(cmds: dict[str, dict], reps: int, ok=(0,)) -> dict[str, float]:
    """Median wall time of each command over `reps` interleaved runs."""
    out: dict[str, list[b.Run]] = {k: [] for k in cmds}
    for _ in range(reps):
        for name, kw in cmds.items():
            r = b.run_child(**{k: v for k, v in kw.items() if k != "ok"})
            if r.returncode not in kw.get("ok", ok):
                raise SystemExit(f"bench: {name} exited {r.returncode}: {kw['argv']}")
            out[name].append(r)
    return {k: median(v) for k, v in out.items()}


def peak_mb(kw: dict, runs: int = 2) -> float:
    got = [b.peak_rss_kb(kw["argv"], kw.get("stdin_path"), kw.get("env")) for _ in range(runs)]
    if any(code not in kw.get("ok", (0,)) for _, code in got):
        raise SystemExit(f"bench: {kw['argv']} failed while measuring memory")
    return max(kb for kb, _ in got) / 1024


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="the issue-23 figures")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = ap.parse_args(argv)
    reps_small, reps_large = (7, 1) if args.quick else (21, 3)
    pxsec, desc = b.pxsec_command()
    env = b.child_env(pxsec)
    interp = b.interpreter_of(pxsec)
    rows = []
    with tempfile.TemporaryDirectory(prefix="pxsec-bench23-") as tmpname:
        tmp = Path(tmpname)
        log(f"bench: generating inputs in {tmp}")
        spec = tmp / "spec.yaml"
        spec.write_text(b.SPEC, encoding="utf-8")
        small = tmp / "small.yaml"
        small.write_text(b.PX_MANIFEST.read_text(encoding="utf-8"), encoding="utf-8")
        s6, s24, s60 = (stream_file(tmp, n) for n in (6000, 24000, 60000))
        mb60 = s60.stat().st_size / 1e6

        def render(path: Path) -> dict:
            return {"argv": pxsec + ["render", "-s", str(spec), str(path)], "env": env}

        def check(path: Path) -> dict:  # exit 1: findings (the stream has insecure workloads), not a failure
            return {"argv": pxsec + ["check", "--spec", str(spec), str(path)], "env": env, "ok": (0, 1)}

        log(f"bench: start-up, {reps_small} interleaved runs")
        t = timed({"render": render(small), "yaml": {"argv": [interp, "-c", "import yaml"]},
                   "own_yaml": {"argv": [interp, "-c", OWN_YAML_IMPORT], "env": env}}, reps_small)
        rows.append(("start-up: small chart render / `python -c 'import yaml'`", t["render"] / t["yaml"], 1.3,
                     f"{t['render'] * 1000:.0f} ms / {t['yaml'] * 1000:.0f} ms"))
        rows.append(("start-up, reference: render / pxsec's own PyYAML import", t["render"] / t["own_yaml"], None,
                     f"{t['render'] * 1000:.0f} ms / {t['own_yaml'] * 1000:.0f} ms"))

        log(f"bench: 6,000 and 24,000 documents, libyaml floor, check; {reps_large} interleaved runs")
        t = timed({"r6": render(s6), "r24": render(s24), "check6": check(s6),
                   "libyaml": {"argv": [sys.executable, "-c", LIBYAML], "stdin_path": str(s6)}}, reps_large)
        rows.append(("scaling: 24,000 / 6,000 documents (a `%` in the stream)", t["r24"] / t["r6"], 4.6,
                     f"{t['r24']:.2f} s / {t['r6']:.2f} s"))
        rows.append(("6,000 documents: render / libyaml load_all+dump_all", t["r6"] / t["libyaml"], 0.10,
                     f"{t['r6']:.2f} s / {t['libyaml']:.2f} s"))
        rows.append(("6,000 documents: check / render, time", t["check6"] / t["r6"], 2.0,
                     f"{t['check6']:.2f} s / {t['r6']:.2f} s"))

        log(f"bench: 60,000 documents ({mb60:.1f} MB) vs the byte floor, {reps_large} interleaved runs")
        t = timed({"r60": render(s60), "floor": {"argv": [sys.executable, "-c", BYTE_FLOOR],
                                                  "stdin_path": str(s60)}}, reps_large)
        rows.append((f"{mb60:.0f} MB / 60,000 documents: render / byte floor", t["r60"] / t["floor"], 10.0,
                     f"{t['r60']:.2f} s / {t['floor']:.2f} s"))

        log("bench: peak RSS (through a small launcher)")
        rss60 = peak_mb(render(s60))
        budget = 2 * s60.stat().st_size / 2 ** 20 + 20
        rows.append((f"peak RSS, {mb60:.0f} MB input: render / (2 x input + 20 MB)", rss60 / budget, 1.0,
                     f"{rss60:.0f} MB / {budget:.0f} MB"))
        rss_r, rss_c = peak_mb(render(s6)), peak_mb(check(s6))
        rows.append(("6,000 documents: check / render, peak RSS", rss_c / rss_r, 2.0,
                     f"{rss_c:.0f} MB / {rss_r:.0f} MB"))

    head = ("figure", "ratio", "goal", "met", "measured")
    table = [head] + [(f, f"{r:.2f}x" if r >= 0.1 else f"{r:.3f}x", "-" if g is None else f"<= {g}x",
                       "-" if g is None else "yes" if r <= g else "NO", m)
                      for f, r, g, m in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    for n, r in enumerate(table):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print(f"\npxsec: {desc}; python {sys.version.split()[0]}; medians of {reps_small} (start-up) / "
          f"{reps_large} (streams) interleaved runs; peak RSS: max of 2 runs")
    return 0
