"""torchprob demo: the two classic gradient estimators, end to end.

1. Score function (REINFORCE): a ``Categorical`` policy learns CartPole-v1 from
   ``dist.sample()`` + ``dist.log_prob(a)``.
2. Pathwise (reparameterisation): a ``Normal`` is fitted by variational inference through
   ``dist.rsample()`` + ``dist.entropy()``.

Run from the repository root: ``python examples/demo.py`` (``make demo``). Learning-curve
PNGs are written to ``out/``.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pathwise_normal  # noqa: E402
import reinforce_cartpole  # noqa: E402

OUT_DIR = "out"


def header(title: str) -> None:
    print()
    print("=" * 72)
    print(title)
    print("=" * 72, flush=True)


def main(out_dir: str = OUT_DIR) -> dict:
    os.makedirs(out_dir, exist_ok=True)
    print(f"distributions from: {reinforce_cartpole.td.__name__}")
    start = time.perf_counter()

    header("Part 1: score-function estimator (REINFORCE) on CartPole-v1")
    t0 = time.perf_counter()
    rl = reinforce_cartpole.main(out_dir=out_dir)
    rl_time = time.perf_counter() - t0

    header("Part 2: pathwise estimator (rsample) fitting a Normal by VI")
    t0 = time.perf_counter()
    pw = pathwise_normal.main(out_dir=out_dir)
    pw_time = time.perf_counter() - t0

    header("Summary")
    print(
        f"REINFORCE  mean episode return  before: {rl['before']:7.1f}  after: {rl['after']:7.1f}"
        f"  ({rl_time:.1f} s)"
    )
    print(
        f"pathwise   ELBO = -KL(q || p)   before: {pw['before']:7.3f}  after: {pw['after']:7.3f}"
        f"  ({pw_time:.1f} s)"
    )
    print(f"plots: {rl['png']}, {pw['png']}")
    print(f"total: {time.perf_counter() - start:.1f} s")
    return {"reinforce": rl, "pathwise": pw}


if __name__ == "__main__":
    main()
