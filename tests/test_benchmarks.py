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
