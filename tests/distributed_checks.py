"""The checks ``test_distributed.py`` runs inside each rank of a 2-process CPU mesh (gloo).

Each check returns ``None`` when it passes or a short text saying what went wrong; the test
module spawns the ranks once and asserts on the collected results.
"""

from __future__ import annotations

import os
import traceback
import warnings
from collections.abc import Callable
from typing import Any

import torch
import torch.distributed as dist

METHODS = ("cdf", "entropy", "mean", "variance")


def _close(actual: Any, expected: torch.Tensor) -> str | None:
    actual = actual.full_tensor() if hasattr(actual, "full_tensor") else actual
    if actual.shape != expected.shape:
        return f"shape {tuple(actual.shape)} != {tuple(expected.shape)}"
    if not torch.allclose(
        actual, expected.to(actual.dtype), rtol=1e-10, atol=1e-12, equal_nan=True
    ):
        return f"max error {(actual - expected).abs().nan_to_num().max().item():.3g}"
    return None


def _gathers(counts: dict) -> list[str]:
    """Collectives other than all-reduce (an all-reduce of a check is all we allow)."""
    return [str(op) for op in counts if "all_reduce" not in str(op)]


def batch_sharded(mesh: Any) -> dict[str, str | None]:
    """Every example class, parameters expanded to batch 4 and sharded ``Shard(0)``."""
    from torch.distributed.tensor import Replicate, Shard, distribute_tensor
    from torch.distributed.tensor.debug import CommDebugMode

    from torchprob import kl_divergence

    from . import examples
    from .rebuild import constructor_kwargs, first_per_class, flatten

    results: dict[str, str | None] = {}
    for ex in first_per_class(examples.EXAMPLES):
        name = ex.cls.__name__
        try:
            small = ex.build()
            ref = small.expand((4,) + small.batch_shape)
            leaves, rebuild = flatten(type(ref), constructor_kwargs(ref))
            leaves = [t.contiguous() for t in leaves]
            ref = rebuild(leaves, False)
            sharded = [
                distribute_tensor(
                    t,
                    mesh,
                    [Shard(0) if t.dim() and t.shape[0] == 4 else Replicate()],
                    src_data_rank=None,
                )
                for t in leaves
            ]
            problems = []
            with CommDebugMode() as comm:
                d = rebuild(sharded, True)
            with CommDebugMode() as comm_draw:
                x = d.sample()
                log_prob = d.log_prob(x)
            problems += [
                f"gathers while drawing: {g}" for g in _gathers(comm_draw.get_comm_counts())
            ]
            problems += [f"build: {g}" for g in _gathers(comm.get_comm_counts())]
            if type(log_prob).__name__ != "DTensor" or not log_prob.placements[0].is_shard(0):
                problems.append(f"log_prob placements {getattr(log_prob, 'placements', None)}")
            full = x.full_tensor()
            err = _close(log_prob, ref.log_prob(full))
            if err:
                problems.append(f"log_prob: {err}")
            results[name] = "; ".join(problems) or None
        except Exception as error:  # noqa: BLE001  (reported per family)
            results[name] = f"{type(error).__name__}: {str(error)[:300]}"
            continue
        extra = []
        for method in METHODS:
            try:
                expected = getattr(ref, method)
                expected = expected(full) if method == "cdf" else expected
                expected = expected() if callable(expected) else expected
            except NotImplementedError:
                continue
            try:
                with CommDebugMode() as comm_m:
                    actual = getattr(d, method)
                    actual = actual(x) if method == "cdf" else actual
                    actual = actual() if callable(actual) else actual
                err = _close(actual, expected)
                if err:
                    extra.append(f"{method}: {err}")
                extra += [f"{method} gathers {g}" for g in _gathers(comm_m.get_comm_counts())]
            except Exception as error:  # noqa: BLE001
                extra.append(f"{method}: {type(error).__name__}: {str(error)[:120]}")
        try:
            expected = kl_divergence(ref, ref)
        except NotImplementedError:
            expected = None
        if expected is not None:
            try:
                err = _close(kl_divergence(d, d), expected)
                if err:
                    extra.append(f"kl: {err}")
            except Exception as error:  # noqa: BLE001
                extra.append(f"kl: {type(error).__name__}: {str(error)[:120]}")
        results[name + ".methods"] = "; ".join(extra) or None
    return results


def _normal_checks(mesh: Any) -> dict[str, str | None]:
    from torch.distributed.tensor import Shard, distribute_tensor

    import torchprob as tp

    results: dict[str, str | None] = {}
    loc = distribute_tensor(torch.zeros(8, dtype=torch.float64), mesh, [Shard(0)])
    scale = distribute_tensor(torch.ones(8, dtype=torch.float64), mesh, [Shard(0)])
    d = tp.Normal(loc, scale, validate_args=True)
    torch.manual_seed(1)
    first = d.sample((3,)).full_tensor()
    torch.manual_seed(1)
    again = d.sample((3,)).full_tensor()
    results["reproducible with a fixed seed"] = None if torch.equal(first, again) else "differs"
    same = torch.equal(first[:, :4], first[:, 4:])
    results["shards draw independent noise"] = "identical noise on both shards" if same else None
    gen = torch.Generator().manual_seed(5)
    a = d.rsample((2,), generator=gen).full_tensor()
    gen = torch.Generator().manual_seed(5)
    b = d.rsample((2,), generator=gen).full_tensor()
    results["generator reproduces"] = None if torch.equal(a, b) else "differs"
    bad = torch.ones(8, dtype=torch.float64)
    bad[6] = -1.0  # lives on rank 1's shard
    try:
        tp.Normal(loc, distribute_tensor(bad, mesh, [Shard(0)]), validate_args=True)
        results["invalid scale raises on every rank"] = "no error"
    except ValueError as error:
        ok = "scale" in str(error) and "-1" in str(error)
        results["invalid scale raises on every rank"] = None if ok else str(error)
    mixed = tp.Normal(loc, 2.0, validate_args=True)  # a Python number joins the mesh
    value = mixed.rsample()
    results["number mixed with DTensor"] = (
        None if type(value).__name__ == "DTensor" else type(value).__name__
    )
    return results


def class_sharded(mesh: Any) -> dict[str, str | None]:
    """Categorical families with logits sharded along the class dimension."""
    from torch.distributed.tensor import Shard, distribute_tensor
    from torch.distributed.tensor.debug import CommDebugMode

    import torchprob as tp

    results: dict[str, str | None] = {}
    torch.manual_seed(0)
    logits = torch.randn(3, 10, dtype=torch.float64) * 3
    logits[1, 7] = 12.0  # class 7 (second shard) dominates row 1
    sharded = distribute_tensor(logits, mesh, [Shard(1)], src_data_rank=None)
    cases: dict[str, Callable[[Any], Any]] = {
        "Categorical": lambda lg: tp.Categorical(logits=lg, validate_args=True),
        "OneHotCategorical": lambda lg: tp.OneHotCategorical(logits=lg, validate_args=True),
        "OneHotCategoricalStraightThrough": lambda lg: tp.OneHotCategoricalStraightThrough(
            logits=lg, validate_args=True
        ),
        "RelaxedOneHotCategorical": lambda lg: tp.RelaxedOneHotCategorical(
            torch.tensor(0.5, dtype=torch.float64), logits=lg, validate_args=True
        ),
        "Multinomial": lambda lg: tp.Multinomial(5, logits=lg, validate_args=True),
    }
    for name, make in cases.items():
        try:
            problems = []
            ref = make(logits)
            with CommDebugMode() as comm:
                d = make(sharded)
                x = d.sample()
                log_prob = d.log_prob(x)
                entropy = None
                try:
                    entropy = d.entropy()
                except NotImplementedError:
                    pass
            problems += [f"gathers {g}" for g in _gathers(comm.get_comm_counts())]
            full = x.full_tensor() if hasattr(x, "full_tensor") else x
            err = _close(log_prob, ref.log_prob(full))
            if err:
                problems.append(f"log_prob: {err}")
            if entropy is not None:
                err = _close(entropy, ref.entropy())
                if err:
                    problems.append(f"entropy: {err}")
            results[name] = "; ".join(problems) or None
        except Exception as error:  # noqa: BLE001
            results[name] = f"{type(error).__name__}: {str(error)[:300]}"
    return results


def run(rank: int, port: int, queue: Any) -> None:
    """One rank: join the group, run every check, put ``(rank, results)`` on ``queue``."""
    warnings.filterwarnings("ignore")
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    results: dict[str, dict[str, str | None]] = {}
    try:
        dist.init_process_group("gloo", rank=rank, world_size=2)
        from torch.distributed.device_mesh import init_device_mesh

        mesh = init_device_mesh("cpu", (2,))
        results["batch"] = batch_sharded(mesh)
        results["normal"] = _normal_checks(mesh)
        results["class"] = class_sharded(mesh)
        dist.destroy_process_group()
    except Exception:  # noqa: BLE001
        results["fatal"] = {"error": traceback.format_exc()}
    queue.put((rank, results))
