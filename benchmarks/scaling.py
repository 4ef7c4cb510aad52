"""Cost and accuracy of Algorithm 1 against dimension and batch size, at a fixed step budget.

    python benchmarks/scaling.py [--quick] [--json FILE] [--steps S] [--jobs J]
    python benchmarks/scaling.py --from-json FILE [FILE ...]     # the tables of saved runs

Dimension sweep (2 … 128): a Gaussian pair (``problems.gaussian_pair``) and a non-Gaussian
pair with a known map (``problems.brenier_pair``: target = ∇ψ#source, ∇ψ(x) = Ax + tanh x).
Batch sweep (128 … 2048) on the 10-D Gaussian pair. Prints seconds per outer step and the
final L2-UVP, and the log-log slope of the cost (cost ∝ size^slope). With ``--jobs J`` the runs
share the processor with J − 1 others: compare timings only between runs made the same way."""

from __future__ import annotations

import argparse
import time

import torch

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the repository root
from benchmarks import harness as B  # noqa: E402

DIMS = (2, 4, 8, 16, 32, 64, 128)
BATCHES = (128, 256, 512, 1024, 2048)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized: 5 steps, fewer sizes")
    parser.add_argument("--steps", type=int, help="outer steps per run (default 400, the solver's default)")
    B.add_run_options(parser, "(pair, dimension, batch)")
    args = B.parse(parser, argv, report)
    if args is None:
        return
    steps = args.steps or (5 if args.quick else 400)
    dims = (2, 8, 32) if args.quick else DIMS
    batches = (128, 512) if args.quick else BATCHES

    calls = [dict(family=family, d=d, batch_size=512, steps=steps, device=args.device) for family in ("gaussian", "brenier") for d in dims]
    batch_calls = [dict(family="gaussian", d=10, batch_size=b, steps=steps, device=args.device) for b in batches]
    collect = B.Collector(args.json, lambda call: f"{call['family']} d={call['d']} batch {call['batch_size']}")

    def done(call, result):
        if call in batch_calls:
            result["sweep"] = "batch"
        collect(call, result)

    runs = B.run_all(B.scaling_one, calls + batch_calls, jobs=args.jobs, threads=args.threads, on_result=done)
    collect.save(runs)
    print(f"\n{B.machine(args.device)}; torch {torch.__version__}, {args.threads} thread(s) per run, {args.jobs} run(s) at once; "
          f"{steps} outer steps per run, defaults otherwise (batch 512 in the dimension sweep); "
          f"total {time.perf_counter() - collect.start:.0f} s\n")
    report(runs)


def report(runs) -> None:
    """The table of runs and the log-log slopes of the cost."""
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
