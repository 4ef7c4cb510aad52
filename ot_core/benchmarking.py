"""Shared pieces of the benchmark scripts (``benchmarks/``) and the chapter on peers and
stability: the tasks, one run of every method on a task, the stabiliser ablation, the
scaling measurement, and small summaries (median, min, max over seeds; markdown tables).

Records are flat dicts ``{"task", "method", "seed", "metric", "value", "seconds"}``, one per
number, so that a JSON file of them is easy to filter and to check."""

from __future__ import annotations

import concurrent.futures
import json
import math
import multiprocessing
import os
import platform
import time

import numpy as np
import torch

from . import baselines, exact, metrics, problems
from .distributions import GaussianMixture
from .lagrangians import Harmonic, Kinetic
from .ode import integrate
from .solver import fit_geodesic, fit_velocity

# ------------------------------------------------------------------------------- running


def _init_worker(threads: int) -> None:
    torch.set_num_threads(threads)


def machine() -> str:
    """One line naming the processor and the number of CPU cores (for the tables' headers)."""
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            name = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), name)
    except OSError:
        pass
    return f"{name}, {os.cpu_count()} cores"


def run_all(fn, calls: list[dict], jobs: int = 1, threads: int = 1, on_result=None) -> list:
    """``[fn(**kwargs) for kwargs in calls]``, in ``jobs`` worker processes of ``threads`` torch
    threads each (``jobs=1``: in this process). ``on_result(kwargs, result)`` is called as each
    run finishes, in the order they finish; the returned list keeps the order of ``calls``."""
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    if jobs == 1:
        results = []
        for kwargs in calls:
            results.append(fn(**kwargs))
            if on_result is not None:
                on_result(kwargs, results[-1])
        return results
    results = [None] * len(calls)
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                initializer=_init_worker, initargs=(threads,)) as pool:
        futures = {pool.submit(fn, **kwargs): i for i, kwargs in enumerate(calls)}
        for future in concurrent.futures.as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            if on_result is not None:
                on_result(calls[i], results[i])
    return results


def add_run_options(parser, runs: str) -> None:
    """The options that every benchmark script shares; ``runs`` names one run, e.g. "(task, seed)"."""
    parser.add_argument("--json", help="write the records to this file (rewritten after every run)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads per run (default 1: fastest for these small networks)")
    parser.add_argument("--jobs", type=int, default=1, help=f"runs {runs} in this many processes at once")
    parser.add_argument("--from-json", nargs="+", metavar="FILE", help="print the tables of saved records and exit")


def load_records(paths) -> list:
    """The records of one or more JSON files written with ``--json``, concatenated."""
    records = []
    for path in paths:
        with open(path) as f:
            records += json.load(f)
    return records


class Collector:
    """The ``on_result`` of :func:`run_all` for the benchmark scripts: keeps each result as its run
    finishes (``flatten``: a result is a list of records), prints one progress line naming the run
    (``label(call)``), and rewrites ``json_path`` (if given) after every run, so that a run stopped
    half way still leaves what it has done."""

    def __init__(self, json_path=None, label=str, flatten: bool = False):
        self.json_path, self.label, self.flatten = json_path, label, flatten
        self.items, self.start = [], time.perf_counter()

    def __call__(self, call: dict, result) -> None:
        if self.flatten:
            self.items.extend(result)
        else:
            self.items.append(result)
        print(f"done: {self.label(call)} ({time.perf_counter() - self.start:.0f} s so far)", flush=True)
        self.save(self.items)

    def save(self, items) -> None:
        if self.json_path:
            with open(self.json_path, "w") as f:
                json.dump(items, f, indent=1)


# ----------------------------------------------------------------------------------- tasks


def mixture_pair(d: int, seed: int = 0):
    """A mixture-to-mixture pair: 3 → 5 equally weighted Gaussian components, means ~ 2·N(0, I)
    (2-D: a square of 4 blobs → a ring of 8). No closed-form answer; judged by terminal W2."""
    if d == 2:
        sq = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]]) * 1.5
        ring = torch.stack([3 * torch.tensor([math.cos(a), math.sin(a)]) for a in np.arange(8) * math.pi / 4])
        return GaussianMixture(sq, 0.1 * torch.eye(2)), GaussianMixture(ring, 0.05 * torch.eye(2))
    gen = torch.Generator().manual_seed(seed)
    return (GaussianMixture(2 * torch.randn(3, d, generator=gen), 0.3 * torch.eye(d)),
            GaussianMixture(2 * torch.randn(5, d, generator=gen), 0.3 * torch.eye(d)))


def compare_tasks() -> dict:
    """name → (source, target, lagrangian, exact answer or None)."""
    s2, t2 = problems.gaussian_pair_2d()
    s10, t10 = problems.gaussian_pair(10, seed=0)
    m2, n2 = mixture_pair(2)
    m10, n10 = mixture_pair(10)
    return {
        "gauss-2d": (s2, t2, Kinetic(), exact.gaussian(s2, t2)),
        "gauss-10d": (s10, t10, Kinetic(), exact.gaussian(s10, t10)),
        "mixture-2d": (m2, n2, Kinetic(), None),
        "mixture-10d": (m10, n10, Kinetic(), None),
        "harmonic-2d": (s2, t2, Harmonic(1.0, +1), exact.harmonic(s2, t2, 1.0, +1)),
    }


class ODEPaths:
    """Paths of a velocity field: ``path(x, t)`` is the solution of dz/dt = v(z, t), z(0) = x, at
    t (RK4 with ``steps`` steps on [0, 1]; the trajectory of the last x is kept, so asking for
    several t costs one integration)."""

    def __init__(self, field, steps: int = 50):
        self.field, self.steps, self._x, self._traj = field, steps, None, None

    def _trajectory(self, x):
        if self._x is not x:
            self._x, self._traj = x, integrate(self.field, x, steps=self.steps, return_path=True)
        return self._traj

    def map(self, x):
        return self._trajectory(x)[-1]

    def path(self, x, t):
        return self._trajectory(x)[round(self.steps * float(t))]


# ------------------------------------------------------------------------------ comparison


def compare_one(task: str, seed: int, *, steps: int = 400, velocity_steps: int = 1000, n_eval: int = 10_000,
                n_pot: int = 1000, n_w2: int = 1000, device=None) -> list[dict]:
    """Every method on one task and seed; returns records. OT-CFM gets the wall-clock that
    Phase 1 + Phase 2 took. POT is evaluated on its own ``n_pot`` samples."""
    source, target, lag, ref = compare_tasks()[task]
    gen = torch.Generator().manual_seed(10_000 + seed)
    x = source.sample(n_eval, generator=gen)
    y_w2 = target.sample(n_w2, generator=gen)
    records = []

    def add(method, seconds, **values):
        for metric, value in values.items():
            records.append({"task": task, "method": method, "seed": seed, "metric": metric,
                            "value": float(value), "seconds": float(seconds)})

    def scores(model, xs, images, paths=True):
        out = {"W2": metrics.empirical_w2(images[:n_w2], y_w2)}
        if ref is not None:
            out["L2-UVP %"] = metrics.l2_uvp(images, ref.map(xs))
            if paths:
                out["path error %"] = metrics.path_error(model, ref, xs)
        return out

    add("W2 floor", 0.0, W2=metrics.w2_floor(target, n_w2, seed=seed))

    fit_geodesic(source, target, lag, seed=seed, device=device, progress=False, steps=1)  # warm-up, not timed
    start = time.perf_counter()
    geo = fit_geodesic(source, target, lag, seed=seed, device=device, progress=False, steps=steps)
    t_geo = time.perf_counter() - start
    vel = fit_velocity(geo, source, seed=seed, device=device, progress=False, steps=velocity_steps)
    t_both = time.perf_counter() - start
    add("ours T(·,1)", t_geo, **scores(geo, x, geo.map(x)))
    ode = ODEPaths(vel)
    extra = {} if ref is None else {"velocity error %": metrics.velocity_error(vel, ref, x[:2000])}
    add("ours ODE of v", t_both, **scores(ode, x[:2000], ode.map(x[:2000]), paths=False), **extra)

    import torchcfm.conditional_flow_matching  # noqa: F401  (import outside the clock)

    start = time.perf_counter()
    cfm = baselines.flow_matching(source, target, steps=10**7, seconds=t_both, seed=seed, device=device,
                                  progress=False)
    t_cfm = time.perf_counter() - start
    ode = ODEPaths(cfm)
    extra = {} if ref is None else {"velocity error %": metrics.velocity_error(cfm, ref, x[:2000]),
                                    "path error %": metrics.path_error(ode, ref, x[:2000])}
    add("OT-CFM same time", t_cfm, **scores(ode, x[:2000], ode.map(x[:2000]), paths=False), **extra)

    start = time.perf_counter()
    xp, yp = source.sample(n_pot, generator=gen), target.sample(n_pot, generator=gen)
    pot = baselines.DiscreteOT(xp, yp)
    t_pot = time.perf_counter() - start
    add(f"POT exact OT n={n_pot}", t_pot, **scores(pot, xp, pot.map()))

    start = time.perf_counter()
    lin = baselines.linear_map(source.sample(n_pot, generator=gen), target.sample(n_pot, generator=gen))
    t_lin = time.perf_counter() - start
    add("linear map", t_lin, **scores(lin, x, lin.map(x)))
    add("identity", 0.0, **scores(baselines.Identity(), x, x, paths=False))
    if ref is not None and not isinstance(lag, Kinetic):   # the best any straight-line method can do
        add("exact map, straight lines", 0.0, **{"path error %": metrics.path_error(baselines.straight_paths(ref), ref, x)})
    return records


# ---------------------------------------------------------------------------- summaries


def summarise(records) -> dict:
    """(task, method, metric) → (median, min, max, n) over seeds, and (task, method) → median seconds."""
    groups, secs = {}, {}
    for r in records:
        groups.setdefault((r["task"], r["method"], r["metric"]), []).append(r["value"])
        secs.setdefault((r["task"], r["method"]), {})[r["seed"]] = r["seconds"]
    out = {k: (float(np.median(v)), float(np.min(v)), float(np.max(v)), len(v)) for k, v in groups.items()}
    out.update({k + ("seconds",): (float(np.median(list(v.values()))), float(min(v.values())),
                                   float(max(v.values())), len(v)) for k, v in secs.items()})
    return out


def fmt(stats, digits: int = 3) -> str:
    """'median [min, max]' of a (median, min, max, n) tuple, or '–'."""
    if stats is None:
        return "–"
    med, lo, hi, _ = stats
    f = (lambda v: f"{v:.{digits}g}")
    return f"{f(med)} [{f(lo)}, {f(hi)}]"


def markdown_table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


COMPARE_METRICS = ("L2-UVP %", "path error %", "velocity error %", "W2", "seconds")


def compare_table(records) -> str:
    """One row per (task, method): each metric as median [min, max] over seeds."""
    s = summarise(records)
    pairs = list(dict.fromkeys((r["task"], r["method"]) for r in records))
    rows = [[task, method] + [fmt(s.get((task, method, m))) for m in COMPARE_METRICS] for task, method in pairs]
    return markdown_table(rows, ["task", "method", *COMPARE_METRICS])


# ----------------------------------------------------------------------------- stability

STABILISERS = {
    "defaults (path_steps 3)": {},
    "path_steps 1": {"path_steps": 1},
    "path_steps 5": {"path_steps": 5},
    "two-timescale lr_critic 3e-3": {"lr_critic": 3e-3},
    "two-timescale lr_path 3e-4": {"lr_path": 3e-4},
    "gradient_penalty 0.1": {"gradient_penalty": 0.1},
    "critic_weight_decay 1e-4": {"critic_weight_decay": 1e-4},
    "ema 0.99": {"ema": 0.99},
    "warm_start linear": {"warm_start": "linear"},
    "lr_decay off (1.0)": {"lr_decay": 1.0},
}


def stability_one(name: str, seed: int, *, steps: int = 400, n_eval: int = 10_000, n_w2: int = 1000,
                  device=None) -> dict:
    """One ablation run on the 2-D Gaussian pair: true L2-UVP, fluctuation of the action over the
    last 20 % of steps, wall-clock, and two monitors that need no ground truth."""
    source, target = problems.gaussian_pair_2d()
    ref = exact.gaussian(source, target)
    gen = torch.Generator().manual_seed(20_000 + seed)
    x = source.sample(n_eval, generator=gen)
    start = time.perf_counter()
    try:
        geo = fit_geodesic(source, target, seed=seed, device=device, progress=False, steps=steps,
                           **STABILISERS[name])
    except FloatingPointError:
        return {"variant": name, "seed": seed, "diverged": True, "seconds": time.perf_counter() - start}
    seconds = time.perf_counter() - start
    tail = max(1, len(geo.history["action"]) // 5)
    return {"variant": name, "seed": seed, "diverged": False, "seconds": seconds,
            "L2-UVP %": metrics.l2_uvp(geo.map(x), ref.map(x)),
            "action std (last 20%)": float(np.std(geo.history["action"][-tail:])),
            "mean abs gap (last 20%)": float(np.mean(np.abs(geo.history["gap"][-tail:]))),
            "W2 to fresh target": metrics.empirical_w2(geo.map(x[:n_w2]), target.sample(n_w2, generator=gen))}


def spearman(a, b) -> float:
    """Rank correlation of two sequences."""
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


STABILITY_METRICS = ("L2-UVP %", "action std (last 20%)", "mean abs gap (last 20%)", "W2 to fresh target", "seconds")


def stability_table(runs) -> str:
    names = list(dict.fromkeys(r["variant"] for r in runs))
    rows = []
    for name in names:
        ok = [r for r in runs if r["variant"] == name and not r["diverged"]]
        n_div = sum(r["variant"] == name and r["diverged"] for r in runs)
        cells = []
        for m in STABILITY_METRICS:
            v = [r[m] for r in ok]
            cells.append(fmt((np.median(v), np.min(v), np.max(v), len(v))) if v else "–")
        rows.append([name, f"{len(ok)}/{len(ok) + n_div}"] + cells)
    return markdown_table(rows, ["variant", "converged", *STABILITY_METRICS])


# ------------------------------------------------------------------------------- scaling


def scaling_one(family: str, d: int, *, batch_size: int = 512, steps: int = 50, seed: int = 0,
                n_eval: int = 10_000, device=None) -> dict:
    """Seconds per outer step of Algorithm 1 and the final L2-UVP, for a Gaussian pair
    (``family="gaussian"``) or a non-Gaussian Brenier pair (``"brenier"``) in dimension d. An
    untimed two-step run first takes the first-call overheads out of the timing."""
    if family == "gaussian":
        source, target = problems.gaussian_pair(d, seed=0)
        ref = exact.gaussian(source, target)
    else:
        source, target = problems.brenier_pair(d, seed=0)
        ref = target
    fit_geodesic(source, target, seed=seed, device=device, progress=False, steps=2, batch_size=batch_size)  # warm-up
    start = time.perf_counter()
    geo = fit_geodesic(source, target, seed=seed, device=device, progress=False, steps=steps, batch_size=batch_size)
    seconds = time.perf_counter() - start
    x = source.sample(n_eval, generator=torch.Generator().manual_seed(30_000 + seed))
    return {"family": family, "dim": d, "batch_size": batch_size, "steps": steps,
            "seconds per step": seconds / steps, "L2-UVP %": metrics.l2_uvp(geo.map(x), ref.map(x))}


def loglog_slope(xs, ys) -> float:
    """Least-squares slope of log y against log x: cost ∝ x^slope."""
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])
