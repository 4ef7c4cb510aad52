"""Shared pieces of the benchmark scripts (``benchmarks/``) and the chapter on peers and
stability: the tasks, one run of every method on a task, the stabiliser ablation, the
scaling measurement, and small summaries (median, min, max over seeds; markdown tables).

This is an experiment harness, not part of the library: it imports ``ot_core`` like any user.
Every timed region ends with a device synchronisation, so timings are right on a GPU too.

Records are flat dicts ``{"task", "method", "seed", "metric", "value", "seconds"}``, one per
number, so that a JSON file of them is easy to filter and to check."""

from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import os
import platform
import time

import numpy as np
import torch

from ot_core import baselines, exact, metrics, problems
from ot_core import fit_geodesic, fit_velocity
from ot_core.lagrangians import Harmonic, Kinetic
from ot_core.ode import ODEPaths  # noqa: F401  (re-exported for the scripts)
from ot_core.problems import mixture_pair  # noqa: F401  (re-exported for the scripts)

# ------------------------------------------------------------------------------- running


def _init_worker(threads: int) -> None:
    torch.set_num_threads(threads)


def machine(device=None) -> str:
    """One line naming the processor, the number of CPU cores and the device the runs use
    (with the GPU's name on CUDA), for the tables' headers and the JSON records."""
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            name = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), name)
    except OSError:
        pass
    device = resolve(device)
    where = "device cpu" if device.type == "cpu" else f"device {device} ({torch.cuda.get_device_name(device)})"
    return f"{name}, {os.cpu_count()} cores; {where}"


def resolve(device) -> torch.device:
    """The device a run with ``device`` uses (None: CUDA when available)."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def sync(device=None) -> None:
    """Wait for the device's queued work, before the clock is read."""
    device = resolve(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def clock(device=None) -> float:
    sync(device)
    return time.perf_counter()


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
    parser.add_argument("--device", help="cpu, cuda, cuda:1, ... (default: CUDA when available)")


def parse(parser, argv, report):
    """The arguments of a benchmark script; with ``--from-json``, ``report(records)`` prints the
    saved runs instead and None is returned. Sets torch's CPU threads to ``--threads``."""
    args = parser.parse_args(argv)
    if args.from_json:
        report(load_records(args.from_json))
        return None
    torch.set_num_threads(args.threads)
    return args


def run_records(fn, calls: list[dict], args, label) -> tuple[list, float]:
    """``fn(**call)`` for every call, each returning a list of records, in ``args.jobs``
    processes; progress lines name each run (``label(call)``) and ``args.json`` is rewritten as
    runs finish, then saved in the order of the calls. Returns (records, seconds in all)."""
    collect = Collector(args.json, label, flatten=True)
    results = run_all(fn, calls, jobs=args.jobs, threads=args.threads, on_result=collect)
    records = [r for result in results for r in result]   # in the order of the calls
    collect.save(records)
    return records, time.perf_counter() - collect.start


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


# ------------------------------------------------------------------------------ comparison


def compare_one(task: str, seed: int, *, steps: int = 400, velocity_steps: int = 1000, n_eval: int = 10_000,
                n_pot: int = 1000, n_w2: int = 1000, device=None, settings: dict | None = None) -> list[dict]:
    """Every method on one task and seed; returns records. OT-CFM gets the wall-clock that
    Phase 1 + Phase 2 took. POT is evaluated on its own ``n_pot`` samples. ``settings``: fields
    of ``GeodesicConfig`` for this solver (default: the library's defaults)."""
    settings = settings or {}
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

    fit_geodesic(source, target, lag, seed=seed, device=device, progress=False, steps=1, **settings)  # warm-up
    start = clock(device)
    geo = fit_geodesic(source, target, lag, seed=seed, device=device, progress=False, steps=steps, **settings)
    t_geo = clock(device) - start
    vel = fit_velocity(geo, source, seed=seed, device=device, progress=False, steps=velocity_steps)
    t_both = clock(device) - start
    add("ours T(·,1)", t_geo, **scores(geo, x, geo.map(x)))
    ode = ODEPaths(vel)
    extra = {} if ref is None else {"velocity error %": metrics.velocity_error(vel, ref, x[:2000])}
    add("ours ODE of v", t_both, **scores(ode, x[:2000], ode.map(x[:2000]), paths=False), **extra)

    import torchcfm.conditional_flow_matching  # noqa: F401  (import outside the clock)

    start = clock(device)
    cfm = baselines.flow_matching(source, target, steps=10**7, seconds=t_both, seed=seed, device=device,
                                  progress=False)
    t_cfm = clock(device) - start
    ode = ODEPaths(cfm)
    extra = {} if ref is None else {"velocity error %": metrics.velocity_error(cfm, ref, x[:2000]),
                                    "path error %": metrics.path_error(ode, ref, x[:2000])}
    add("OT-CFM same time", t_cfm, **scores(ode, x[:2000], ode.map(x[:2000]), paths=False), **extra)

    start = clock(device)
    xp, yp = source.sample(n_pot, generator=gen), target.sample(n_pot, generator=gen)
    pot = baselines.DiscreteOT(xp, yp)
    t_pot = clock(device) - start
    add(f"POT exact OT n={n_pot}", t_pot, **scores(pot, xp, pot.map()))

    start = clock(device)
    lin = baselines.linear_map(source.sample(n_pot, generator=gen), target.sample(n_pot, generator=gen))
    t_lin = clock(device) - start
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
    "warm_start none": {"warm_start": "none"},
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
    start = clock(device)
    try:
        geo = fit_geodesic(source, target, seed=seed, device=device, progress=False, steps=steps,
                           **STABILISERS[name])
    except FloatingPointError:
        return {"variant": name, "seed": seed, "diverged": True, "seconds": clock(device) - start}
    seconds = clock(device) - start
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
    start = clock(device)
    geo = fit_geodesic(source, target, seed=seed, device=device, progress=False, steps=steps, batch_size=batch_size)
    seconds = clock(device) - start
    x = source.sample(n_eval, generator=torch.Generator().manual_seed(30_000 + seed))
    return {"family": family, "dim": d, "batch_size": batch_size, "steps": steps, "device": str(resolve(device)),
            "machine": machine(device), "torch": torch.__version__,
            "seconds per step": seconds / steps, "L2-UVP %": metrics.l2_uvp(geo.map(x), ref.map(x))}


def loglog_slope(xs, ys) -> float:
    """Least-squares slope of log y against log x: cost ∝ x^slope."""
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])
