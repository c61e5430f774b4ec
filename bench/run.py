#!/usr/bin/env python3
"""pxsec benchmark: whole-process wall time and peak memory, each against a baseline measured in
the same run on the same machine. Writes nothing into the repo unless asked.

    python bench/run.py                    # the issue-23 figures (bench/issue23.py): ratios, goals, met
    python bench/run.py --quick            # the same, fewer repetitions
    python bench/run.py --kustomize        # the issue-6 figures below (about 5-15 minutes, kustomize included)
    python bench/run.py --kustomize --json             # also print the figures as JSON
    python bench/run.py --kustomize --write-readme-table FILE   # also write the table as markdown to FILE

The issue-6 figures (--kustomize):

Figures (targets from the issues):
  start-up pxsec render of the same 51 documents vs `python -c "import yaml"` with pxsec's own
           interpreter (whole processes, interleaved). Target <= 1.3x. With mikefarah/yq v4 on PATH
           (or in the tools cache), also vs yq doing the same injection, for reference.
  small    pxsec render of the PX 2.8 manifest (51 documents, self-signed + Stork spec), as a whole
           process including interpreter start-up, vs `kubectl kustomize` (else `kustomize build`) doing the
           same injection with JSON6902 patches; medians of many interleaved runs. Target <= 0.75x.
  large    a generated stream of ~6,000 documents (2.7 MB: Deployments and ConfigMaps with block
           scalars, plus the Portworx manifest) vs a Python process that only loads and dumps it with
           PyYAML's libyaml CSafeLoader/CSafeDumper (the floor). Target <= 0.5x. kustomize on the same
           stream is run once, for reference.
  scaling  12,000 documents vs 6,000. Target <= 2.2x.
  memory   peak RSS of the pxsec process on the large stream, measured through a small launcher
           that forks it and reads its rusage (a child's ru_maxrss would otherwise start at this
           script's own peak). Target <= 60 MB.

pxsec is the `pxsec` console script when it is on PATH, else pxsec installed as the README installs
it (`pip install .`, not editable) into a venv cached under ~/.cache/pxsec-bench (override with
PXSEC_BENCH_CMD="..."). The kustomize baseline is `kubectl kustomize`, as the issue
names it (else `kustomize build`); a standalone `kustomize` on PATH (scripts/install-tools.sh) is
reported too, for reference. See bench/profile.py for where the time goes.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.dont_write_bytecode = True  # write nothing into the repo
sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as b  # noqa: E402

FLOOR = ("import sys, yaml; yaml.dump_all(yaml.load_all(sys.stdin.buffer, Loader=yaml.CSafeLoader), "
         "sys.stdout, Dumper=yaml.CSafeDumper)")


def median(runs: list[b.Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def interleaved(cmds: dict[str, dict], reps: int) -> dict[str, list[b.Run]]:
    """Run each command `reps` times, alternating between them so drift hits all alike."""
    out: dict[str, list[b.Run]] = {k: [] for k in cmds}
    for _ in range(reps):
        for name, kw in cmds.items():
            r = b.run_child(**kw)
            if r.returncode != 0:
                raise SystemExit(f"bench: {name} exited {r.returncode}: {kw['argv']}")
            out[name].append(r)
    return out


def check_equivalence(pxsec: list[str], kust: list[str] | None, inputs: dict, env: dict, tmp: Path) -> str:
    """The kustomize patches must produce the same DaemonSet portworx and Deployment stork as pxsec."""
    import yaml

    if kust is None:
        return "kustomize not available"
    p_out, k_out = tmp / "pxsec-small.yaml", tmp / "kustomize-small.yaml"
    b.run_child(pxsec + ["render", "-s", str(inputs["spec"]), str(inputs["small"])], env=env, stdout_path=str(p_out))
    b.run_child(kust + [str(inputs["small"].parent)], stdout_path=str(k_out))

    def pick(path: Path) -> dict:
        with open(path, encoding="utf-8") as f:
            return {(d["kind"], d["metadata"]["name"]): d for d in yaml.load_all(f, Loader=yaml.CSafeLoader)
                    if isinstance(d, dict) and (d.get("kind"), d.get("metadata", {}).get("name"))
                    in (("DaemonSet", "portworx"), ("Deployment", "stork"))}

    a, c = pick(p_out), pick(k_out)
    if len(a) == 2 and a == c:
        return "equivalent (DaemonSet portworx and Deployment stork identical after both)"
    return "NOT equivalent: the kustomize patches and pxsec disagree (figures still printed)"


def fmt_s(x: float | None) -> str:
    return "n/a" if x is None else (f"{x * 1000:.0f} ms" if x < 10 else f"{x:.1f} s")


def kustomize_main(argv: list[str]) -> int:
    """The issue-6 figures (pxsec against kustomize and the libyaml floor), behind --kustomize."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kustomize", action="store_true")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions; kustomize large capped at 60 s")
    ap.add_argument("--reps-small", type=int, default=None, help="runs of each command on the small input (31)")
    ap.add_argument("--reps-large", type=int, default=None, help="runs of each command on the large inputs (5)")
    ap.add_argument("--kustomize-large-timeout", type=float, default=None,
                    help="seconds before kustomize on the large stream is stopped (600; --quick: 60)")
    ap.add_argument("--skip-kustomize-large", action="store_true", help="do not run kustomize on the large stream")
    ap.add_argument("--json", action="store_true", help="also print the figures as JSON on stdout")
    ap.add_argument("--write-readme-table", metavar="FILE", help="write the figures as a markdown table to FILE")
    args = ap.parse_args(argv)
    reps_small = args.reps_small or (11 if args.quick else 31)
    reps_large = args.reps_large or (3 if args.quick else 5)
    k_timeout = args.kustomize_large_timeout or (60.0 if args.quick else 600.0)

    pxsec, pxsec_desc = b.pxsec_command()
    k = b.kustomize_command()
    kust, kust_desc = (k if k else (None, "unavailable"))
    env = b.child_env(pxsec)
    figures: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="pxsec-bench-") as tmpname:
        tmp = Path(tmpname)
        log(f"bench: generating inputs in {tmp}")
        inputs = b.write_inputs(tmp)
        spec = str(inputs["spec"])
        equivalence = check_equivalence(pxsec, kust, inputs, env, tmp)
        log(f"bench: kustomize patches vs pxsec: {equivalence}")

        def px(path: Path) -> dict:
            return {"argv": pxsec + ["render", "-s", spec, str(path)], "env": env}

        # start-up reference: the bare interpreter and `import yaml`
        log(f"bench: small input, {reps_small} interleaved runs each")
        interp = b.interpreter_of(pxsec)
        cmds = {"pxsec": px(inputs["small"]),
                "python": {"argv": [sys.executable, "-c", "pass"]},
                "import_yaml": {"argv": [interp, "-c", "import yaml"]}}
        yq = b.yq_command()
        if yq:
            cmds["yq"] = {"argv": yq[0] + ["eval", b.YQ_EXPR, str(inputs["small"])]}
        if kust:
            cmds["kustomize"] = {"argv": kust + [str(inputs["small"].parent)]}
        standalone = b.standalone_kustomize()
        if standalone and standalone[0] != kust:
            cmds["standalone"] = {"argv": standalone[0] + [str(inputs["small"].parent)]}
        small = interleaved(cmds, reps_small)
        k_small = median(small["kustomize"]) if kust else None
        figures.append(dict(
            figure="small: pxsec vs kustomize (51 docs, whole process)", value=median(small["pxsec"]),
            baseline=k_small, baseline_name=f"{kust_desc} + JSON patches", unit="s", target=0.75,
            ratio=median(small["pxsec"]) / k_small if k_small else None))
        if "standalone" in small:
            figures.append(dict(
                figure="small: pxsec vs standalone kustomize (reference)", value=median(small["pxsec"]),
                baseline=median(small["standalone"]), baseline_name=f"{standalone[1]} + JSON patches", unit="s",
                target=None, ratio=median(small["pxsec"]) / median(small["standalone"])))
        figures.append(dict(
            figure="start-up: pxsec vs `python -c 'import yaml'` (51 docs, same interpreter)",
            value=median(small["pxsec"]), baseline=median(small["import_yaml"]),
            baseline_name=f"{interp} -c 'import yaml'", unit="s", target=1.3,
            ratio=median(small["pxsec"]) / median(small["import_yaml"])))
        if yq:
            figures.append(dict(
                figure="small: pxsec vs yq doing the same injection (reference)", value=median(small["pxsec"]),
                baseline=median(small["yq"]), baseline_name=f"{yq[1]} eval", unit="s", target=None,
                ratio=median(small["pxsec"]) / median(small["yq"])))
        else:
            log("bench: yq (mikefarah v4) not found; `go install github.com/mikefarah/yq/v4@v4.54.3` adds that figure")
        figures.append(dict(
            figure="small: pxsec vs bare `python -c pass` (reference)", value=median(small["pxsec"]),
            baseline=median(small["python"]), baseline_name="interpreter start-up", unit="s", target=None,
            ratio=median(small["pxsec"]) / median(small["python"])))

        log(f"bench: large inputs, {reps_large} interleaved runs each")
        cmds = {"pxsec6000": px(inputs["large6000"]),
                "floor6000": {"argv": [sys.executable, "-c", FLOOR], "stdin_path": str(inputs["large6000"])},
                "pxsec12000": px(inputs["large12000"])}
        large = interleaved(cmds, reps_large)
        t6, t12, floor = median(large["pxsec6000"]), median(large["pxsec12000"]), median(large["floor6000"])
        figures.append(dict(
            figure="large: pxsec vs PyYAML libyaml load+dump floor (6,000 docs)", value=t6, baseline=floor,
            baseline_name="python yaml.load_all+dump_all (CSafe)", unit="s", target=0.5, ratio=t6 / floor))

        if kust and not args.skip_kustomize_large:
            log(f"bench: kustomize on the large stream, once (timeout {k_timeout:.0f} s)")
            r = b.run_child(kust + [str(inputs["large6000"].parent)], timeout=k_timeout)
            kl = r.seconds
            figures.append(dict(
                figure="large: pxsec vs kustomize (6,000 docs, run once)", value=t6,
                baseline=kl, baseline_name=f"{kust_desc}" + (f" (stopped at {k_timeout:.0f} s)" if r.timed_out else ""),
                unit="s", target=None, ratio=t6 / kl, bound=("<" if r.timed_out else None),
                baseline_bound=(">" if r.timed_out else None),
                note=None if r.returncode == 0 or r.timed_out else f"kustomize exited {r.returncode}"))
        figures.append(dict(
            figure="scaling: 12,000 docs vs 6,000", value=t12, baseline=t6, baseline_name="pxsec, 6,000 docs",
            unit="s", target=2.2, ratio=t12 / t6))
        log("bench: peak memory, each command alone (3 runs each, through a small launcher)")

        def peak_mb(kw: dict) -> float:
            runs = [b.peak_rss_kb(kw["argv"], kw.get("stdin_path"), kw.get("env")) for _ in range(3)]
            if any(code != 0 for _, code in runs):
                raise SystemExit(f"bench: {kw['argv']} failed while measuring memory")
            return max(kb for kb, _ in runs) / 1024

        rss, rss12, floor_rss = peak_mb(cmds["pxsec6000"]), peak_mb(cmds["pxsec12000"]), peak_mb(cmds["floor6000"])
        figures.append(dict(
            figure="memory: pxsec peak RSS, 6,000 docs", value=rss, baseline=floor_rss,
            baseline_name="floor's peak RSS (it streams)", unit="MB", target_abs=60.0, ratio=rss / floor_rss))
        figures.append(dict(
            figure="memory: pxsec peak RSS, 12,000 docs (reference)", value=rss12, baseline=rss,
            baseline_name="pxsec peak RSS, 6,000 docs", unit="MB", target=None, ratio=rss12 / rss))
        launcher_mb = b.launcher_floor_kb() / 1024

    for f in figures:
        if f.get("target") is not None and f["ratio"] is not None:
            f["pass"] = f["ratio"] <= f["target"] and f.get("bound") != ">"
        elif f.get("target_abs") is not None:
            f["pass"] = f["value"] <= f["target_abs"]
        else:
            f["pass"] = None
    meta = {"pxsec": pxsec_desc, "kustomize": kust_desc, "python": sys.version.split()[0],
            "reps_small": reps_small, "reps_large": reps_large, "equivalence": equivalence,
            "rss_launcher_floor_mb": round(launcher_mb, 1)}
    print_table(figures, meta)
    if args.json:
        print(json.dumps({"meta": meta, "figures": figures}, indent=2))
    if args.write_readme_table:
        Path(args.write_readme_table).write_text(markdown(figures, meta), encoding="utf-8")
        log(f"bench: wrote {args.write_readme_table}")
    return 0


def _cells(f: dict) -> list[str]:
    val = fmt_s(f["value"]) if f["unit"] == "s" else f"{f['value']:.1f} MB"
    base = fmt_s(f["baseline"]) if f["unit"] == "s" else (f"{f['baseline']:.1f} MB" if f["baseline"] else "n/a")
    base = (f.get("baseline_bound") or "") + base
    ratio = "n/a" if f["ratio"] is None else f"{f.get('bound') or ''}{f['ratio']:.{2 if f['ratio'] >= 0.1 else 4}f}x"
    if f.get("target") is not None:
        target = f"<= {f['target']}x"
    elif f.get("target_abs") is not None:
        target = f"<= {f['target_abs']:.0f} MB"
    else:
        target = "-"
    ok = {True: "yes", False: "NO", None: "-"}[f["pass"]]
    return [f["figure"], val, f"{base} ({f['baseline_name']})", ratio, target, ok]


HEAD = ["figure", "pxsec", "baseline", "ratio", "target", "met"]


def print_table(figures: list[dict], meta: dict) -> None:
    rows = [HEAD] + [_cells(f) for f in figures]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEAD))]
    for n, r in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print(f"\npxsec: {meta['pxsec']}; kustomize: {meta['kustomize']}; python {meta['python']}; "
          f"medians of {meta['reps_small']} (small) / {meta['reps_large']} (large) runs; "
          f"peak RSS floor of the launcher: {meta['rss_launcher_floor_mb']} MB")


def markdown(figures: list[dict], meta: dict) -> str:
    lines = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in _cells(f)) + " |" for f in figures]
    lines.append("")
    lines.append(f"Measured with `python bench/run.py` (pxsec: `{meta['pxsec']}`, kustomize: `{meta['kustomize']}`, "
                 f"Python {meta['python']}; medians of {meta['reps_small']} small / {meta['reps_large']} large runs).")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if "--kustomize" in sys.argv[1:]:
        sys.exit(kustomize_main(sys.argv[1:]))
    import issue23  # noqa: E402  (bench/issue23.py: the default run)
    sys.exit(issue23.main(sys.argv[1:]))
