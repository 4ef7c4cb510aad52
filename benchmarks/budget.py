"""Error against wall-clock on the Gaussian pairs: this solver and OT-CFM at equal time, from
a few steps to the default budget.

    python benchmarks/budget.py [--quick] [--json FILE] [--seeds N] [--jobs J]
    python benchmarks/budget.py --from-json FILE [FILE ...]     # the table of saved runs

For each budget (outer steps of Algorithm 1, with 2.5 times as many steps of Algorithm 2, as at
the defaults 400 / 1000) and seed, ``harness.compare_one`` trains this solver and then OT-CFM
for the seconds that Algorithms 1 + 2 took. The same budgets are run once more with
``warm_start="none"`` (the map starts at the identity, the critic at random) to show what the
default start at the moment-matched map is worth. Prints the median L2-UVP of T(·, 1), of
the ODE of v and of OT-CFM against the median seconds, per task and budget."""

from __future__ import annotations

import argparse

import numpy as np
import torch

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the repository root
from benchmarks import harness as B  # noqa: E402

BUDGETS = (5, 10, 20, 50, 100, 200, 400)
KEEP = ("ours T(·,1)", "ours ODE of v", "OT-CFM same time")
IDENTITY_START = "ours T(·,1), warm_start none"


def budget_one(task: str, seed: int, steps: int, start: str, device=None, n_eval: int = 10_000) -> list[dict]:
    """The records of one budget: this solver and OT-CFM at equal time (``start="default"``),
    or this solver's map alone with ``warm_start="none"`` (``start="none"``)."""
    velocity_steps = max(10, round(2.5 * steps))
    if start == "default":
        records = B.compare_one(task, seed, steps=steps, velocity_steps=velocity_steps, n_eval=n_eval,
                                n_pot=200, n_w2=200, device=device)
        records = [r for r in records if r["method"] in KEEP and r["metric"] == "L2-UVP %"]
    else:
        source, target, lag, ref = B.compare_tasks()[task]
        x = source.sample(n_eval, generator=torch.Generator().manual_seed(10_000 + seed))
        options = dict(seed=seed, device=device, progress=False, warm_start="none")
        B.fit_geodesic(source, target, lag, steps=1, **options)                          # warm-up
        begin = B.clock(device)
        geo = B.fit_geodesic(source, target, lag, steps=steps, **options)
        seconds = B.clock(device) - begin
        records = [{"task": task, "method": IDENTITY_START, "seed": seed, "metric": "L2-UVP %",
                    "value": B.metrics.l2_uvp(geo.map(x), ref.map(x)), "seconds": seconds}]
    for r in records:
        r["steps"] = steps
    return records


def table(records) -> str:
    """Median L2-UVP % [min, max] and median seconds, one row per (task, budget, method)."""
    order = KEEP + (IDENTITY_START,)
    groups = {}
    for r in records:
        groups.setdefault((r["task"], r["steps"], r["method"]), []).append(r)
    rows = []
    for (task, steps, method), sel in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1], order.index(g[0][2]))):
        err = [r["value"] for r in sel]
        stats = (float(np.median(err)), min(err), max(err), len(err))
        rows.append([task, str(steps), method, B.fmt(stats), f"{np.median([r['seconds'] for r in sel]):.2f}",
                     str(len(sel))])
    return B.markdown_table(rows, ["task", "steps of Algorithm 1", "method", "L2-UVP %", "seconds", "seeds"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized: budgets 5 and 20, 1 seed, the 2-D pair")
    parser.add_argument("--seeds", type=int, help="number of seeds (default 3; 1 with --quick)")
    B.add_run_options(parser, "(task, budget, seed)")
    args = B.parse(parser, argv, lambda records: print(table(records)))
    if args is None:
        return
    seeds = args.seeds or (1 if args.quick else 3)
    tasks, budgets = (("gauss-2d",), (5, 20)) if args.quick else (("gauss-2d", "gauss-10d"), BUDGETS)
    n_eval = 2000 if args.quick else 10_000
    calls = [dict(task=task, seed=seed, steps=steps, start=start, device=args.device, n_eval=n_eval)
             for start in ("default", "none") for task in tasks for steps in budgets[::-1]
             for seed in range(seeds)]
    records, seconds = B.run_records(budget_one, calls, args,
                                     lambda c: f"{c['task']} {c['steps']} steps {c['start']} seed {c['seed']}")
    print(f"\n{B.machine(args.device)}; torch {torch.__version__}, {args.threads} thread(s) per run, {args.jobs} run(s) "
          f"at once; {seeds} seed(s); Algorithm 2: 2.5 steps per step of Algorithm 1; OT-CFM: same wall-clock as "
          f"Algorithm 1 + 2; total {seconds:.0f} s\n")
    print(table(records))


if __name__ == "__main__":
    main()
