"""Smoke tests for the examples: each ``main`` runs briefly and writes its plot."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

matplotlib = pytest.importorskip("matplotlib")  # the examples need the "demo" extra
matplotlib.use("Agg")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def check_result(result: dict, png: Path) -> None:
    assert {"before", "after"} <= result.keys()
    assert math.isfinite(result["before"]) and math.isfinite(result["after"])
    assert png.is_file() and png.stat().st_size > 0


def test_reinforce_cartpole_smoke(tmp_path: Path) -> None:
    pytest.importorskip("gymnasium")
    example = load_example("reinforce_cartpole")
    result = example.main(iterations=3, out_dir=str(tmp_path), seed=0)
    check_result(result, tmp_path / "reinforce_cartpole.png")
    assert len(result["curve"]) == 3
    assert 8 <= result["before"] <= 500 and 8 <= result["after"] <= 500


def test_pathwise_normal_smoke(tmp_path: Path) -> None:
    example = load_example("pathwise_normal")
    result = example.main(iterations=60, out_dir=str(tmp_path), seed=0)
    check_result(result, tmp_path / "pathwise_normal.png")
    assert len(result["curve"]) == 60
    assert result["before"] < result["after"] <= 0.05  # ELBO = -KL rises towards 0
