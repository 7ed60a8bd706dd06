"""Smoke test of benchmarks/compare.py: it imports, runs in --quick mode and writes its JSON."""

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "compare.py"


@pytest.fixture(scope="module")
def compare():
    spec = importlib.util.spec_from_file_location("bench_compare", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def _run(compare, tmp_path, capsys, *args):
    out = tmp_path / "bench.json"
    assert compare.main(["--quick", "--json", str(out), *args]) == 0
    return json.loads(out.read_text()), capsys.readouterr().out


def test_null_run_measures_every_table_entry(compare, tmp_path, capsys):
    # torch.distributions against itself: every line of both tables must build and run.
    data, text = _run(compare, tmp_path, capsys, "--candidate", "torch.distributions")
    rows = data["rows"]
    assert {r["name"] for r in rows if r["section"] == "tiny"} == {n for n, _ in compare.TINY}
    assert {r["name"] for r in rows if r["section"] == "big"} == {n for n, _ in compare.BIG}
    for r in rows:
        assert r["status"] == "ok", (r["name"], r["status"])
        assert r["torch_ns"] > 0 and r["cand_ns"] > 0 and math.isfinite(r["ratio"])
        assert r["draw"] in ("rsample", "sample") or r["section"] == "big"
        assert (r["clone_ns"] is not None) == (r["section"] == "big")
    assert text.count("geomean") == 2


def test_torchprob_quick_run(compare, tmp_path, capsys):
    data, text = _run(compare, tmp_path, capsys)
    assert data["meta"]["candidate"] == "torchprob"
    for r in data["rows"]:
        assert r["status"] == "ok" or r["status"].startswith(("missing", "error"))
    assert "== Tiny" in text and "== Big" in text


def test_only_filters(compare, tmp_path, capsys):
    data, _ = _run(
        compare, tmp_path, capsys, "--only", "normal", "--candidate", "torch.distributions"
    )
    assert {r["name"] for r in data["rows"]} == {"Normal"}
    assert compare.main(["--quick", "--only", "NoSuchDistribution"]) == 2
