"""Seconds per outer step of Algorithm 1, and the default 2-D fit with Phase 2, on one device.

    python benchmarks/step_time.py [--device cuda] [--dims 2,16,64,128] [--batch 512] [--steps 100]
                                   [--baseline PATH] [--repeats 3] [--json FILE]

Each configuration runs ``--steps`` outer steps after an untimed warm-up, ``--repeats`` times;
the table gives the median seconds per step (device work included: the clock is read after a
synchronisation). ``--baseline PATH`` times another checkout of the library (a folder holding
``ot_core/``, e.g. ``git worktree add /tmp/before <commit>``) in the same run, alternating the
two so that a busy machine slows both alike: "before" and "after" measured together."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# One measurement, run in a fresh interpreter whose ot_core comes from the given folder.
CHILD = r"""
import json, sys, time
import torch
torch.set_num_threads({threads})
import ot_core as otc
device = {device!r} or ("cuda" if torch.cuda.is_available() else "cpu")

def clock():
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter()

kind, d, batch, steps = {kind!r}, {d}, {batch}, {steps}
if d == 2:
    source, target = otc.problems.gaussian_pair_2d()
else:
    source, target = otc.problems.gaussian_pair(d, seed=0)
if kind == "step":
    otc.fit_geodesic(source, target, steps=3, batch_size=batch, device=device, progress=False)
    start = clock()
    otc.fit_geodesic(source, target, steps=steps, batch_size=batch, device=device, progress=False)
    print(json.dumps((clock() - start) / steps))
else:   # the default 2-D fit, Algorithm 1 and Algorithm 2
    otc.fit_geodesic(source, target, steps=3, device=device, progress=False)
    start = clock()
    geo = otc.fit_geodesic(source, target, device=device, progress=False)
    otc.fit_velocity(geo, source, device=device, progress=False)
    print(json.dumps(clock() - start))
"""


def measure(folder: Path, kind: str, d: int, batch: int, steps: int, device, threads: int) -> float:
    code = CHILD.format(threads=threads, device=device, kind=kind, d=d, batch=batch, steps=steps)
    out = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(folder), "CI": "true"})
    if out.returncode:
        raise SystemExit(f"measurement failed in {folder}:\n{out.stderr[-2000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", help="cpu, cuda, ... (default: CUDA when available)")
    parser.add_argument("--dims", default="2,16,64,128", help="comma-separated dimensions")
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--steps", type=int, default=100, help="timed outer steps per measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--baseline", help="folder of another checkout of the library, timed alongside")
    parser.add_argument("--no-fit", action="store_true", help="skip the default 2-D fit with Phase 2")
    parser.add_argument("--json", help="write the measurements to this file")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from benchmarks.harness import machine

    folders = {"this checkout": ROOT}
    if args.baseline:
        folders["baseline"] = Path(args.baseline).resolve()
    jobs = [("step", int(d), args.batch, args.steps) for d in args.dims.split(",")]
    if not args.no_fit:
        jobs.append(("fit", 2, 512, 0))
    rows = []
    for kind, d, batch, steps in jobs:
        times = {name: [] for name in folders}
        for _ in range(args.repeats):          # alternate: both see the same machine load
            for name, folder in folders.items():
                times[name].append(measure(folder, kind, d, batch, steps, args.device, args.threads))
        for name in folders:
            rows.append({"what": "seconds per outer step" if kind == "step" else "default 2-D fit + Phase 2, seconds",
                         "dim": d, "batch": batch, "code": name, "median": statistics.median(times[name]),
                         "all": times[name]})
        print(f"done: {kind} d={d}", file=sys.stderr, flush=True)
    print(f"{machine(args.device)}; {args.threads} torch thread(s); median of {args.repeats} "
          f"({args.steps} timed steps each)\n")
    print("| what | dim | batch | code | median | all runs |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        runs = ", ".join(f"{v:.4g}" for v in r["all"])
        print(f"| {r['what']} | {r['dim']} | {r['batch']} | {r['code']} | {r['median']:.4g} | {runs} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(args.device), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
