"""Algorithm 1 on the hard problems (many modes, sharp cuts), variants of its settings side by side.

    python benchmarks/hard.py [--quick] [--json FILE] [--seeds N] [--steps S] [--tasks a,b]
                              [--variants a,b] [--jobs J]
    python benchmarks/hard.py --from-json FILE [FILE ...]     # the table of saved runs

Tasks: the 2-D Gaussian pair (map L2-UVP against the exact map: what must not get worse), the
mixtures of ``problems.mixture_pair`` in 2-D and 10-D (3 or 4 → 5 or 8 components), and the
two mixtures of chapter 60: one Gaussian onto a ring of eight, two blobs onto a column of four.
Each map is judged against fresh target samples: empirical W2 (n = 1000) beside its floor (two
independent target samples), the largest gap between a target component's share of the mapped
mass and its weight (a dropped mode shows as a gap of its whole weight), and the mass farther
than 3 standard deviations from every component ("in gaps", as in chapter 60: fresh samples of
a 2-D target put about 1 % there; in 10-D most of them lie that far, so read it in 2-D only). Prints one markdown table, median [min, max] over seeds.

Variants, each named by its settings: the defaults (all "auto": the moment-matched start on the
Gaussian pair; on the mixtures ``energy_weight=0.3`` and 64 Fourier features in the map network,
and in 2-D the start at the exact matching of 4,096 samples and ``critic_input_gain=2``; the
10-D mixture starts at the identity); the matching start without the sharper networks or
without the energy term; the identity start (the defaults before the matching start), also
with plain networks (the defaults before the sharper networks), with the features but not the
gain, and without the learning-rate decay; the bare game (identity start, no energy term, plain
networks); the moment-matched start forced on every task; and other weights of the energy term.
Names hold no commas, so that ``--variants`` can list them."""

from __future__ import annotations

import argparse
import math

import torch

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the repository root
from benchmarks import harness as B  # noqa: E402
from ot_core import GaussianMixture, Gaussian, exact, fit_geodesic, metrics, problems  # noqa: E402

PLAIN = {"fourier_features": 0, "critic_input_gain": 1.0}   # the networks without the sharpening for modes
IDENTITY = {"warm_start": "none"}                                # the defaults before the matching start
VARIANTS = {
    "defaults": {},
    "identity start": IDENTITY,
    "matching start + plain networks": {"warm_start": "matching", **PLAIN},
    "matching start + energy 0": {"warm_start": "matching", "energy_weight": 0.0},
    "identity start + plain networks": {**IDENTITY, **PLAIN},              # the defaults before both
    "identity start + fourier 64 + critic gain 1": {**IDENTITY, "fourier_features": 64, "critic_input_gain": 1.0},
    "bare game": {"warm_start": "none", "energy_weight": 0.0, **PLAIN},
    "moments forced + plain networks": {"warm_start": "moments", **PLAIN},
    "identity start + no lr decay": {**IDENTITY, "lr_decay": 1.0},
    "energy 0.3": {"energy_weight": 0.3},
    "energy 1": {"energy_weight": 1.0},
    "energy 3": {"energy_weight": 3.0},
    "energy 0.3 + penalty 0.1": {"energy_weight": 0.3, "gradient_penalty": 0.1},
}


def tasks() -> dict:
    """name → (source, target)."""
    angles = torch.arange(8, dtype=torch.float64) * 2 * math.pi / 8
    ring = GaussianMixture(4.0 * torch.stack([angles.cos(), angles.sin()], 1), 0.05 * torch.eye(2))
    return {
        "gauss-2d": problems.gaussian_pair_2d(),
        "mixture-2d": problems.mixture_pair(2),
        "mixture-10d": problems.mixture_pair(10),
        "one-to-eight": (Gaussian([0.0, 0.0], 0.5 * torch.eye(2)), ring),
        "two-to-four": (GaussianMixture([[-3.0, 0.0], [3.0, 0.0]], 0.3 * torch.eye(2)),
                        GaussianMixture([[0.0, -3.0], [0.0, -1.0], [0.0, 1.0], [0.0, 3.0]], 0.1 * torch.eye(2))),
    }


def component_stats(points: torch.Tensor, target: GaussianMixture) -> tuple[float, float]:
    """(largest |share of a component − its weight|, fraction farther than 3 sd from every
    component), in percent; each point belongs to the nearest component in standardised units."""
    means, sd = target.means.to(points), target.covs.diagonal(dim1=-2, dim2=-1).sqrt().to(points)
    z = (points[:, None, :] - means[None]) / sd[None]                 # (n, k, d)
    dist = z.norm(dim=-1)                                             # (n, k)
    share = torch.bincount(dist.argmin(1), minlength=len(means)).double() / len(points)
    weights = target.weights.to(share)
    in_gaps = (dist.min(1).values > 3).double().mean()                  # as in chapter 60
    return float(100 * (share - weights).abs().max()), float(100 * in_gaps)


def hard_one(task: str, variant: str, seed: int, *, steps: int = 400, n_w2: int = 1000,
             n_eval: int = 20_000, device=None) -> list[dict]:
    source, target = tasks()[task]
    settings = VARIANTS[variant]
    start = B.clock(device)
    geo = fit_geodesic(source, target, steps=steps, seed=seed, device=device, progress=False, **settings)
    seconds = B.clock(device) - start
    gen = torch.Generator().manual_seed(10_000 + seed)
    x = source.sample(n_eval, generator=gen)
    mapped = geo.map(x.to(geo.device)).cpu()
    values = {"W2": metrics.empirical_w2(mapped[:n_w2], target.sample(n_w2, generator=gen)),
              "W2 floor": metrics.empirical_w2(target.sample(n_w2, generator=gen), target.sample(n_w2, generator=gen))}
    values["W2 / floor"] = values["W2"] / values["W2 floor"]
    if isinstance(target, GaussianMixture):
        values["max share gap %"], values["in gaps %"] = component_stats(mapped, target)
        values["in gaps %, fresh ν"] = component_stats(target.sample(n_eval, generator=gen), target)[1]
    else:
        values["L2-UVP %"] = metrics.l2_uvp(mapped, exact.gaussian(source, target).map(x))
    return [dict(task=task, method=variant, seed=seed, metric=k, value=v, seconds=seconds)
            for k, v in values.items()]


METRICS = ("L2-UVP %", "W2", "W2 floor", "W2 / floor", "max share gap %", "in gaps %", "in gaps %, fresh ν",
           "seconds")


def table(records) -> str:
    s = B.summarise(records)
    pairs = list(dict.fromkeys((r["task"], r["method"]) for r in records))
    rows = [[task, method] + [B.fmt(s.get((task, method, m))) for m in METRICS] for task, method in pairs]
    return B.markdown_table(rows, ["task", "variant", *METRICS])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized: 15 steps, 1 seed, small samples")
    parser.add_argument("--seeds", type=int, help="number of seeds (default 5)")
    parser.add_argument("--steps", type=int, help="outer steps of Algorithm 1 (default 400)")
    parser.add_argument("--tasks", help="comma-separated subset of: " + ", ".join(tasks()))
    parser.add_argument("--variants", help="comma-separated subset of: " + ", ".join(VARIANTS))
    B.add_run_options(parser, "(task, variant, seed)")
    args = B.parse(parser, argv, lambda records: print(table(records)))
    if args is None:
        return
    names = args.tasks.split(",") if args.tasks else list(tasks())
    variants = args.variants.split(",") if args.variants else ["defaults", "identity start",
                                                               "identity start + plain networks", "bare game",
                                                               "moments forced + plain networks"]
    for chosen, known, what in ((names, tasks(), "task"), (variants, VARIANTS, "variant")):
        unknown = set(chosen) - set(known)
        if unknown:
            parser.error(f"unknown {what}(s): {', '.join(sorted(unknown))}")
    seeds = args.seeds or (1 if args.quick else 5)
    steps = args.steps or (15 if args.quick else 400)
    size = dict(n_w2=200, n_eval=2000) if args.quick else {}
    calls = [dict(task=t, variant=v, seed=s, steps=steps, device=args.device, **size)
             for t in names for v in variants for s in range(seeds)]
    records, seconds = B.run_records(hard_one, calls, args, lambda c: f"{c['task']} / {c['variant']} / seed {c['seed']}")
    print(f"\n{B.machine(args.device)}; torch {torch.__version__}, {args.threads} thread(s) per run, "
          f"{args.jobs} run(s) at once; {seeds} seeds; {steps} outer steps; "
          f"total {seconds:.0f} s\n")
    print(table(records))


if __name__ == "__main__":
    main()
