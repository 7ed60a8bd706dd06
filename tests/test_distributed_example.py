"""End to end: ``examples/distributed_policy.py`` trains on a 2-rank CPU mesh and exits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch.distributed.tensor")

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "distributed_policy.py"


@pytest.mark.slow
def test_distributed_policy_runs() -> None:
    if not __import__("torch").distributed.is_gloo_available():
        pytest.skip("the gloo backend is not built into this torch")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("RANK", None)  # the example must start its own processes
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--iterations", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "mean reward" in done.stdout
    assert "all_reduce" in done.stdout  # the communication report of step 1
    assert "all_gather" not in done.stdout  # the classes are never gathered
