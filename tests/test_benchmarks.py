"""The benchmark scripts run end to end (a minimal --quick subset) and write sound JSON."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_compare_quick_json(tmp_path):
    out = tmp_path / "compare.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "compare.py"), "--quick", "--tasks", "gauss-2d",
                    "--seeds", "1", "--steps", "5", "--velocity-steps", "5", "--json", str(out)],
                   check=True, cwd=ROOT, timeout=300, capture_output=True)
    records = json.loads(out.read_text())
    assert records, "no records written"
    for r in records:
        assert set(r) == {"task", "method", "seed", "metric", "value", "seconds"}, r
        assert r["task"] == "gauss-2d" and r["seed"] == 0
        assert math.isfinite(r["value"]) and math.isfinite(r["seconds"]) and r["seconds"] >= 0, r
    methods = {r["method"] for r in records}
    assert {"ours T(·,1)", "ours ODE of v", "OT-CFM same time", "linear map", "identity", "W2 floor"} <= methods
    assert any(m.startswith("POT exact OT") for m in methods)
    metrics = {(r["method"], r["metric"]) for r in records}
    assert {("ours T(·,1)", "L2-UVP %"), ("ours T(·,1)", "path error %"), ("ours ODE of v", "velocity error %"),
            ("OT-CFM same time", "velocity error %"), ("W2 floor", "W2")} <= metrics


def test_run_all_keeps_order_across_processes():
    from benchmarks import harness as B

    calls = [dict(xs=[1, 2, 4, 8], ys=[1, 2**k, 4**k, 8**k]) for k in (3, 1, 2)]
    seen = []
    slopes = B.run_all(B.loglog_slope, calls, jobs=2, on_result=lambda call, result: seen.append(result))
    assert [round(s, 6) for s in slopes] == [3, 1, 2]          # the order of the calls, not of completion
    assert sorted(round(s, 6) for s in seen) == [1, 2, 3]
    assert B.run_all(B.loglog_slope, calls[:1]) == slopes[:1]   # jobs=1 runs in this process


def test_run_all_rejects_bad_jobs():
    import pytest

    from benchmarks import harness as B

    with pytest.raises(ValueError, match="jobs"):
        B.run_all(B.loglog_slope, [], jobs=0)


def test_from_json_prints_the_table_of_saved_records(tmp_path):
    records = [{"task": "gauss-2d", "method": m, "seed": s, "metric": "L2-UVP %", "value": v, "seconds": 1.0}
               for m, vals in (("ours T(·,1)", (0.1, 0.3)), ("identity", (270.0, 280.0))) for s, v in enumerate(vals)]
    halves = [tmp_path / "a.json", tmp_path / "b.json"]
    halves[0].write_text(json.dumps(records[:3]))
    halves[1].write_text(json.dumps(records[3:]))
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "compare.py"), "--from-json", *map(str, halves)],
                         check=True, cwd=ROOT, timeout=120, capture_output=True, text=True).stdout
    rows = [line for line in out.splitlines() if line.startswith("| gauss-2d")]
    assert len(rows) == 2
    assert "0.2 [0.1, 0.3]" in rows[0] and "275 [270, 280]" in rows[1]   # median [min, max] over both files


def test_stored_full_runs_are_complete():
    """The records that chapter 100 reads: every task, method and seed of the default-budget runs."""
    results = ROOT / "benchmarks" / "results"
    compare = json.loads((results / "compare.json").read_text())
    tasks = {r["task"] for r in compare}
    assert tasks == {"gauss-2d", "gauss-10d", "mixture-2d", "mixture-10d", "harmonic-2d"}
    for task in tasks:
        seeds = {r["seed"] for r in compare if r["task"] == task and r["method"] == "ours T(·,1)"}
        assert seeds == {0, 1, 2, 3, 4}, (task, seeds)
    assert all(math.isfinite(r["value"]) for r in compare)
    stability = json.loads((results / "stability.json").read_text())
    from benchmarks import harness as B

    assert {r["variant"] for r in stability} == set(B.STABILISERS)
    scaling = json.loads((results / "scaling.json").read_text())
    assert {r["dim"] for r in scaling if "sweep" not in r} == {2, 4, 8, 16, 32, 64, 128}
    assert {r["batch_size"] for r in scaling if r.get("sweep") == "batch"} == {128, 256, 512, 1024, 2048}
    for name in ("compare", "stability", "scaling"):   # the header line that chapter 100 prints
        assert any("per run" in line for line in (results / f"{name}.log").read_text().splitlines())


def test_hard_quick_json_counts_modes_and_gaps(tmp_path):
    out = tmp_path / "hard.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "hard.py"), "--quick", "--tasks", "gauss-2d,two-to-four",
                    "--variants", "defaults,energy 0.3", "--steps", "3", "--json", str(out)],
                   check=True, cwd=ROOT, timeout=300, capture_output=True)
    records = json.loads(out.read_text())
    metrics = {(r["task"], r["method"], r["metric"]) for r in records}
    for variant in ("defaults", "energy 0.3"):
        assert {("gauss-2d", variant, "L2-UVP %"), ("two-to-four", variant, "max share gap %"),
                ("two-to-four", variant, "in gaps %")} <= metrics
    fresh = [r["value"] for r in records if r["metric"] == "in gaps %, fresh ν"]
    assert fresh and all(0 <= v < 5 for v in fresh)      # fresh 2-D target samples: about 1 % in the gaps


def test_component_stats_finds_a_dropped_mode_and_mass_in_the_gaps():
    import torch

    from benchmarks import hard
    from ot_core import GaussianMixture

    target = GaussianMixture([[0.0, -3.0], [0.0, 3.0]], 0.1 * torch.eye(2))
    on_one = target.components[0].sample(1000)            # every point in one of two equal components
    gap, between = hard.component_stats(on_one, target)
    assert gap == 50.0 and between < 5
    midway = torch.zeros(100, 2)                          # every point between the two components
    assert hard.component_stats(midway, target)[1] == 100.0


def test_budget_quick_json_has_both_starts_and_the_peer_at_each_budget(tmp_path):
    out = tmp_path / "budget.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "budget.py"), "--quick", "--json", str(out)],
                   check=True, cwd=ROOT, timeout=300, capture_output=True)
    records = json.loads(out.read_text())
    seen = {(r["steps"], r["method"]) for r in records}
    for steps in (5, 20):
        assert {(steps, "ours T(·,1)"), (steps, "ours ODE of v"), (steps, "OT-CFM same time"),
                (steps, "ours T(·,1), warm_start none")} <= seen
    by = {(r["steps"], r["method"]): r for r in records}
    # the map from the default start is far ahead of the identity start after 20 steps
    assert by[20, "ours T(·,1)"]["value"] < 0.1 * by[20, "ours T(·,1), warm_start none"]["value"]
    assert all(r["seconds"] > 0 for r in records)
