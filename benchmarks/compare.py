"""Peers side by side: this solver (Phase 1 map, Phase 2 velocity and its ODE samples), OT-CFM
given the same wall-clock, POT exact OT on samples, the linear map and the identity.

    python benchmarks/compare.py [--quick] [--json FILE] [--seeds N] [--tasks a,b] [--steps S] [--jobs J]
                                 [--energy-weight W]
    python benchmarks/compare.py --from-json FILE [FILE ...]     # the table of saved runs

Prints a markdown table: each metric as median [min, max] over seeds. L2-UVP, path and
velocity errors where the exact answer is known (Gaussian pairs, harmonic Lagrangian);
terminal empirical W2 everywhere, beside its sampling floor ("W2 floor" rows). POT's
barycentric map exists only on its own samples and is evaluated there."""

from __future__ import annotations

import argparse

import torch

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the repository root
from benchmarks import harness as B  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized: few steps, small samples, 2 seeds")
    parser.add_argument("--seeds", type=int, help="number of seeds (default 5; 2 with --quick)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds are first-seed, first-seed + 1, ...")
    parser.add_argument("--tasks", help="comma-separated subset of: " + ", ".join(B.compare_tasks()))
    parser.add_argument("--steps", type=int, help="outer steps of Algorithm 1 (default 400; 20 with --quick)")
    parser.add_argument("--velocity-steps", type=int, help="steps of Algorithm 2 (default 1000; 50 with --quick)")
    parser.add_argument("--energy-weight", type=float, help="energy_weight of Algorithm 1 (default: the library's)")
    B.add_run_options(parser, "(task, seed)")
    args = B.parse(parser, argv, lambda records: print(B.compare_table(records)))
    if args is None:
        return
    tasks = args.tasks.split(",") if args.tasks else list(B.compare_tasks())
    unknown = set(tasks) - set(B.compare_tasks())
    if unknown:
        parser.error(f"unknown task(s): {', '.join(sorted(unknown))}")
    seeds = args.seeds or (2 if args.quick else 5)
    size = (dict(steps=20, velocity_steps=50, n_eval=1000, n_pot=200, n_w2=200) if args.quick
            else dict(steps=400, velocity_steps=1000))
    if args.steps:
        size["steps"] = args.steps
    if args.velocity_steps:
        size["velocity_steps"] = args.velocity_steps

    settings = {} if args.energy_weight is None else {"energy_weight": args.energy_weight}
    calls = [dict(task=task, seed=seed, device=args.device, settings=settings, **size) for task in tasks
             for seed in range(args.first_seed, args.first_seed + seeds)]
    records, seconds = B.run_records(B.compare_one, calls, args, lambda call: f"{call['task']} seed {call['seed']}")
    print(f"\n{B.machine(args.device)}; torch {torch.__version__}, {args.threads} thread(s) per run, {args.jobs} run(s) at once; "
          f"{seeds} seeds; "
          f"Algorithm 1: {size['steps']} steps{''.join(f', {k} = {v}' for k, v in settings.items())}, "
          f"Algorithm 2: {size['velocity_steps']} steps; "
          f"OT-CFM: same wall-clock as Algorithm 1 + 2; total {seconds:.0f} s\n")
    print(B.compare_table(records))


if __name__ == "__main__":
    main()
