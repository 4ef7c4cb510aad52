"""Accuracy and wall-clock of Algorithms 1 and 2 with the default configuration.

    python benchmarks/solver_accuracy.py [--quick] [--json FILE]

Prints a markdown table: each learned number beside the exact answer's baselines
(identity map, moment-matched linear map, straight-line paths) and the target it must meet."""

from __future__ import annotations

import argparse
import json
import time

import torch

import ot_core as otc
from ot_core import metrics as M


def evaluate(name, source, target, lagrangian, exact, *, phase2, targets, overrides, velocity_overrides,
             n_eval=10_000):
    x = source.sample(n_eval, generator=torch.Generator().manual_seed(1234))
    start = time.perf_counter()
    geo = otc.fit_geodesic(source, target, lagrangian, progress=False, **overrides)
    seconds = time.perf_counter() - start
    row = {"task": name, "map L2-UVP %": M.l2_uvp(geo.map(x), exact.map(x)),
           "path error %": M.path_error(geo, exact, x)}
    if phase2:
        vel = otc.fit_velocity(geo, source, progress=False, **velocity_overrides)
        seconds = time.perf_counter() - start
        row["velocity error %"] = M.velocity_error(vel, exact, x)
    row["seconds"] = seconds
    row["action gap %"] = 100 * M.action_gap(M.action(geo, lagrangian, x), exact.cost)
    # baselines
    gen = torch.Generator().manual_seed(99)
    linear = otc.baselines.linear_map(source.sample(10_000, generator=gen), target.sample(10_000, generator=gen))
    row["identity L2-UVP %"] = M.l2_uvp(x, exact.map(x))
    row["linear L2-UVP %"] = M.l2_uvp(linear.map(x), exact.map(x))
    row["straight-path error %"] = M.path_error(otc.baselines.straight_paths(exact), exact, x)
    row["targets"] = targets
    row["pass"] = all(row[k] <= v for k, v in targets.items())
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a CI-sized run (a tenth of the steps)")
    parser.add_argument("--json", help="write the rows to this file")
    args = parser.parse_args()
    quick = dict(steps=40) if args.quick else {}

    src2, tgt2 = otc.problems.gaussian_pair_2d()
    src10, tgt10 = otc.problems.gaussian_pair(10, seed=0)
    g = [0.0, -2.0]
    tasks = [
        ("2-D Gaussian, kinetic", src2, tgt2, otc.Kinetic(), otc.exact.gaussian(src2, tgt2), True,
         {"map L2-UVP %": 0.3, "path error %": 0.3, "velocity error %": 2.0, "seconds": 60}),
        ("10-D Gaussian, kinetic", src10, tgt10, otc.Kinetic(), otc.exact.gaussian(src10, tgt10), False,
         {"map L2-UVP %": 1.0, "seconds": 120}),
        ("2-D harmonic ω=1, +", src2, tgt2, otc.Harmonic(1.0, +1), otc.exact.harmonic(src2, tgt2, 1.0, +1), False,
         {"path error %": 1.0}),
        ("2-D harmonic ω=1, −", src2, tgt2, otc.Harmonic(1.0, -1), otc.exact.harmonic(src2, tgt2, 1.0, -1), False,
         {"path error %": 1.0}),
        ("2-D constant force g=(0,−2)", src2, tgt2, otc.ConstantForce(g), otc.exact.constant_force(src2, tgt2, g), False,
         {"path error %": 1.0}),
    ]
    rows = []
    for name, s, t, lag, ex, phase2, targets in tasks:
        rows.append(evaluate(name, s, t, lag, ex, phase2=phase2, targets=targets, overrides=quick,
                             velocity_overrides=dict(steps=100) if args.quick else {}))
        print(f"done: {name} ({rows[-1]['seconds']:.1f} s)", flush=True)

    cols = ["map L2-UVP %", "path error %", "velocity error %", "action gap %", "seconds",
            "identity L2-UVP %", "linear L2-UVP %", "straight-path error %"]
    print(f"\ntorch {torch.__version__}, {torch.get_num_threads()} threads, defaults of GeodesicConfig/VelocityConfig"
          + (" (--quick: 40 steps)" if args.quick else ""))
    print("| task | " + " | ".join(cols) + " | targets | pass |")
    print("|---" * (len(cols) + 3) + "|")
    for r in rows:
        cells = [f"{r[c]:.3f}" if c in r and c != "seconds" else (f"{r[c]:.1f}" if c in r else "–") for c in cols]
        tg = ", ".join(f"{k.split(' ')[0]} ≤ {v:g}" for k, v in r["targets"].items())
        print(f"| {r['task']} | " + " | ".join(cells) + f" | {tg} | {'yes' if r['pass'] else 'NO'} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
