"""Cost and accuracy of Algorithm 1 against dimension and batch size, at a fixed step budget.

    python benchmarks/scaling.py [--quick] [--json FILE] [--steps S]

Dimension sweep (2 … 128): a Gaussian pair (``problems.gaussian_pair``) and a non-Gaussian
pair with a known map (``problems.brenier_pair``: target = ∇ψ#source, ∇ψ(x) = Ax + tanh x).
Batch sweep (128 … 2048) on the 10-D Gaussian pair. Prints seconds per outer step and the
final L2-UVP, and the log-log slope of the cost (cost ∝ size^slope)."""

from __future__ import annotations

import argparse
import json
import time

import torch

from ot_core import benchmarking as B

DIMS = (2, 4, 8, 16, 32, 64, 128)
BATCHES = (128, 256, 512, 1024, 2048)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized: 5 steps, fewer sizes")
    parser.add_argument("--json", help="write one record per run to this file")
    parser.add_argument("--steps", type=int, help="outer steps per run (default 80)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    steps = args.steps or (5 if args.quick else 80)
    dims = (2, 8, 32) if args.quick else DIMS
    batches = (128, 512) if args.quick else BATCHES

    B.scaling_one("gaussian", 2, steps=2)   # warm-up (first-call overheads), not reported
    runs, start = [], time.perf_counter()
    for family in ("gaussian", "brenier"):
        for d in dims:
            runs.append(B.scaling_one(family, d, steps=steps))
            print(f"done: {family} d={d} ({time.perf_counter() - start:.0f} s so far)", flush=True)
    for b in batches:
        runs.append(dict(B.scaling_one("gaussian", 10, batch_size=b, steps=steps), sweep="batch"))
        print(f"done: batch {b} ({time.perf_counter() - start:.0f} s so far)", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(runs, f, indent=1)

    print(f"\ntorch {torch.__version__}, {torch.get_num_threads()} threads; {steps} outer steps per run, "
          f"defaults otherwise (batch 512 in the dimension sweep); total {time.perf_counter() - start:.0f} s\n")
    rows = [[r["family"], str(r["dim"]), str(r["batch_size"]), f"{r['seconds per step']:.3f}", f"{r['L2-UVP %']:.3g}"]
            for r in runs]
    print(B.markdown_table(rows, ["pair", "dim", "batch", "seconds / step", "L2-UVP %"]))
    print()
    for family in ("gaussian", "brenier"):
        sel = [r for r in runs if r["family"] == family and "sweep" not in r]
        print(f"- {family}: seconds/step ∝ dim^{B.loglog_slope([r['dim'] for r in sel], [r['seconds per step'] for r in sel]):.2f}"
              f" (d = {sel[0]['dim']}…{sel[-1]['dim']})")
    sel = [r for r in runs if r.get("sweep") == "batch"]
    print(f"- batch (10-D Gaussian): seconds/step ∝ batch^{B.loglog_slope([r['batch_size'] for r in sel], [r['seconds per step'] for r in sel]):.2f}")


if __name__ == "__main__":
    main()
