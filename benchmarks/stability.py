"""Stabilisers of Algorithm 1, one at a time against the defaults, on the 2-D Gaussian pair.

    python benchmarks/stability.py [--quick] [--json FILE] [--seeds N] [--steps S] [--jobs J]
    python benchmarks/stability.py --from-json FILE [FILE ...]     # the tables of saved runs

For each variant and seed: the final map L2-UVP, the fluctuation of the action over the last
20 % of steps (std of ``geo.history["action"]``), wall-clock, and two monitors that need no
ground truth (mean |critic gap| over the last 20 % of steps; empirical W2 of T(·,1)#μ to fresh
target samples). Prints a markdown table (median [min, max] over seeds) and the rank
correlation of each monitor with the true L2-UVP across all runs. Solver defaults are not
changed here; the table says which settings help."""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the repository root
from benchmarks import harness as B  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized: 15 steps, 2 seeds, 3 variants")
    parser.add_argument("--seeds", type=int, help="seeds per variant (default 3; the defaults get max(seeds, 5))")
    parser.add_argument("--steps", type=int, help="outer steps of Algorithm 1 (default 400)")
    parser.add_argument("--variants", help="comma-separated subset of: " + "; ".join(B.STABILISERS))
    B.add_run_options(parser, "(variant, seed)")
    args = B.parse(parser, argv, report)
    if args is None:
        return
    variants = args.variants.split(",") if args.variants else list(B.STABILISERS)
    if args.quick and not args.variants:
        variants = variants[:3]
    seeds = args.seeds or (2 if args.quick else 3)
    steps = args.steps or (15 if args.quick else 400)
    size = dict(n_eval=1000, n_w2=200) if args.quick else {}

    collect = B.Collector(args.json, lambda call: f"{call['name']} seed {call['seed']}")
    calls = [dict(name=name, seed=seed, steps=steps, device=args.device, **size) for name in variants
             for seed in range(max(seeds, 5) if name == "defaults (path_steps 3)" and not args.quick else seeds)]
    runs = B.run_all(B.stability_one, calls, jobs=args.jobs, threads=args.threads, on_result=collect)
    collect.save(runs)
    print(f"\n{B.machine(args.device)}; torch {torch.__version__}, {args.threads} thread(s) per run, {args.jobs} run(s) at once; "
          f"2-D Gaussian pair; {steps} outer steps; {seeds} seeds per variant "
          f"(defaults: {max(seeds, 5) if not args.quick else seeds}); total {time.perf_counter() - collect.start:.0f} s\n")
    report(runs)


def report(runs) -> None:
    """The ablation table, the monitors' rank correlations and the defaults' spread."""
    print(B.stability_table(runs))
    ok = [r for r in runs if not r["diverged"]]
    uvp = [r["L2-UVP %"] for r in ok]
    print(f"\nrank correlation with the true L2-UVP across {len(ok)} runs (no ground truth needed for the monitor):")
    for monitor in ("mean abs gap (last 20%)", "W2 to fresh target", "action std (last 20%)"):
        print(f"- {monitor}: Spearman {B.spearman([r[monitor] for r in ok], uvp):+.2f}")
    d = [r["L2-UVP %"] for r in ok if r["variant"] == "defaults (path_steps 3)"]
    if d:
        print(f"\ndefaults over {len(d)} seeds: median {np.median(d):.3g} %, spread (max − min) {max(d) - min(d):.3g} %, "
              f"diverged {sum(r['diverged'] for r in runs if r['variant'] == 'defaults (path_steps 3)')}")

if __name__ == "__main__":
    main()
