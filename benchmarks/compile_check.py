"""torch.compile: graph breaks over every distribution, and the compiled speed-up.

Usage::

    python benchmarks/compile_check.py            # both parts, about a minute on 2 cores
    python benchmarks/compile_check.py --quick    # fullgraph check only

1. ``compile-fullgraph: N of N``: for the first example of every class in
   ``tests/examples.py``, a function that builds the distribution from tensors and returns
   ``log_prob(x)`` and a draw (``rsample`` where it exists) is traced with
   ``torch.compile(fullgraph=True)`` (Dynamo only, ``backend="eager"``), with validation off and
   on; a graph break fails the case.
2. Compiled speed-up: construct + ``log_prob`` on 10**5 float32 elements, eager time over the
   time of the same function compiled by Inductor (medians of interleaved rounds, one thread).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torchprob as tp  # noqa: E402
from tests.examples import EXAMPLES  # noqa: E402
from tests.rebuild import first_per_class, flatten  # noqa: E402

SPEEDUP = {
    "Normal": lambda n: ({"loc": torch.zeros(()), "scale": torch.ones(())}, torch.randn(n)),
    "Gamma": lambda n: (
        {"concentration": torch.tensor(2.5), "rate": torch.ones(())},
        torch.rand(n) + 0.1,
    ),
    "Beta": lambda n: (
        {"concentration1": torch.tensor(2.0), "concentration0": torch.tensor(3.0)},
        torch.rand(n).clamp(1e-3, 1 - 1e-3),
    ),
    "StudentT": lambda n: ({"df": torch.tensor(4.0)}, torch.randn(n)),
    "Laplace": lambda n: ({"loc": torch.zeros(()), "scale": torch.ones(())}, torch.randn(n)),
    "Poisson": lambda n: ({"rate": torch.tensor(3.0)}, torch.poisson(torch.full((n,), 3.0))),
}


def fullgraph_cases() -> tuple[int, int, list[str]]:
    passed = total = 0
    broken = []
    for ex in first_per_class(EXAMPLES):
        leaves, rebuild = flatten(ex.cls, ex.params)
        value = rebuild(leaves, False).sample()
        for validate in (False, True):

            def step(value, *tensors, _validate=validate, _rebuild=rebuild):
                d = _rebuild(list(tensors), _validate)
                draw = d.rsample() if d.has_rsample else d.sample()
                return d.log_prob(value), draw

            total += 1
            torch._dynamo.reset()
            try:
                torch.compile(step, fullgraph=True, backend="eager")(value, *leaves)
                passed += 1
            except Exception as error:  # noqa: BLE001
                broken.append(f"{ex.cls.__name__} (validate={validate}): {str(error)[:120]}")
    return passed, total, broken


def _median_time(fn, args, rounds: int = 15) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def speedups(n: int) -> list[tuple[str, float, float]]:
    rows = []
    for name, make in SPEEDUP.items():
        kwargs, value = make(n)
        cls = getattr(tp, name)

        def step(value, *params, _cls=cls, _names=tuple(kwargs)):
            return _cls(**dict(zip(_names, params)), validate_args=False).log_prob(value)

        args = (value, *kwargs.values())
        torch._dynamo.reset()
        compiled = torch.compile(step, fullgraph=True)
        for _ in range(3):
            compiled(*args)
            step(*args)
        eager_t, compiled_t = [], []
        for _ in range(5):
            eager_t.append(_median_time(step, args, 5))
            compiled_t.append(_median_time(compiled, args, 5))
        rows.append((name, statistics.median(eager_t), statistics.median(compiled_t)))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fullgraph check only")
    parser.add_argument("--n", type=int, default=10**5, help="elements for the speed-up part")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    print(f"# torch {torch.__version__}, {time.strftime('%Y-%m-%d')}")
    passed, total, broken = fullgraph_cases()
    for line in broken:
        print(f"  graph break: {line}")
    print(f"compile-fullgraph: {passed} of {total} (classes x validation off/on)")
    if args.quick:
        return
    print(f"\n{'family':12s} {'eager ms':>9s} {'compiled ms':>12s} {'speed-up':>9s}   (n={args.n})")
    ups = []
    for name, eager, compiled in speedups(args.n):
        ups.append(eager / compiled)
        print(f"{name:12s} {eager * 1e3:9.3f} {compiled * 1e3:12.3f} {eager / compiled:8.2f}x")
    geo = statistics.geometric_mean(ups)
    print(f"compile-speedup: geomean {geo:.2f}x over {len(ups)} families at {args.n} elements")


if __name__ == "__main__":
    main()
