"""Distributions on DTensor parameters over a 2-process CPU mesh (gloo, loopback only).

The two ranks are spawned once per session (see ``distributed_checks.py`` for what each check
does); each test asserts one family's or one property's result on both ranks.
"""

from __future__ import annotations

import socket

import pytest
import torch.distributed as dist
import torch.multiprocessing as mp

from . import distributed_checks, examples

pytestmark = pytest.mark.skipif(
    not dist.is_available() or not dist.is_gloo_available(), reason="needs the gloo backend"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def results() -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = _free_port()
    procs = [ctx.Process(target=distributed_checks.run, args=(r, port, queue)) for r in range(2)]
    for p in procs:
        p.start()
    collected = dict(queue.get(timeout=240) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    for rank, res in collected.items():
        assert "fatal" not in res, f"rank {rank}: {res['fatal']['error']}"
    return collected


# Known gaps (issue 12 stays open for them): each entry says what still goes wrong.
CORE_GAPS: dict[str, str] = {}
METHOD_GAPS: dict[str, str] = {}


def _classes(gaps: dict[str, str]) -> list:
    names: list[str] = []
    for ex in examples.EXAMPLES:
        if ex.cls.__name__ not in names:
            names.append(ex.cls.__name__)
    return [
        pytest.param(n, marks=pytest.mark.xfail(reason=gaps[n], strict=False)) if n in gaps else n
        for n in names
    ]


def _check(results: dict, section: str, key: str) -> None:
    for rank in (0, 1):
        assert key in results[rank][section], f"rank {rank} did not run {key}"
        problem = results[rank][section][key]
        assert problem is None, f"rank {rank}: {problem}"


@pytest.mark.parametrize("name", _classes(CORE_GAPS))
def test_batch_sharded(results, name):
    """Construct (validation on), sample and log_prob on ``Shard(0)`` parameters: results are
    sharded like the parameters, equal the single-process ones and gather nothing."""
    _check(results, "batch", name)


@pytest.mark.parametrize("name", _classes(METHOD_GAPS))
def test_batch_sharded_methods(results, name):
    """cdf, entropy, mean, variance and KL on ``Shard(0)`` parameters equal the single-process
    results and gather nothing."""
    if f"{name}.methods" not in results[0]["batch"]:
        pytest.skip("construction or sampling failed (see test_batch_sharded)")
    _check(results, "batch", f"{name}.methods")


@pytest.mark.parametrize(
    "key",
    [
        "reproducible with a fixed seed",
        "shards draw independent noise",
        "generator reproduces",
        "invalid scale raises on every rank",
        "number mixed with DTensor",
    ],
)
def test_normal_properties(results, key):
    _check(results, "normal", key)


@pytest.mark.parametrize(
    "name",
    [
        "Categorical",
        "OneHotCategorical",
        "OneHotCategoricalStraightThrough",
        "RelaxedOneHotCategorical",
        "Multinomial",
    ],
)
def test_class_sharded(results, name):
    """Logits sharded along the classes: log_prob, entropy and sample without a gather."""
    _check(results, "class", name)
