"""Pathwise (reparameterisation) gradients: fit a Normal by variational inference.

We learn ``q = td.Normal(loc, softplus(raw_scale))`` by maximising the evidence lower
bound against a target density p:

    ELBO(q) = E_{x ~ q}[log p(x)] + H[q]  (= -KL(q || p) because p is normalised)

The expectation is estimated with ``x = q.rsample((n,))``: the sample is a differentiable
function ``loc + scale * eps`` of the parameters, so autograd carries the gradient of
``log p(x)`` straight back to ``loc`` and ``raw_scale``. The entropy term is exact
(``q.entropy()``). With a Normal target the optimum is known (q = p, ELBO = 0), so the run
can be checked against the closed form KL.

Run: ``python examples/pathwise_normal.py`` (about a second).
"""

from __future__ import annotations

import argparse
import math
import os
import time

import torch
from matplotlib.figure import Figure
from torch.nn.functional import softplus

import torchprob as td

ITERATIONS = 300  # full run
N_SAMPLES = 256  # Monte Carlo samples per gradient step
LR = 0.05
TARGET_LOC, TARGET_SCALE = 3.0, 0.5
EVAL_SAMPLES = 200_000


def exact_elbo(loc: float, scale: float) -> float:
    """Closed form -KL(N(loc, scale) || N(TARGET_LOC, TARGET_SCALE))."""
    ratio = scale / TARGET_SCALE
    kl = math.log(1.0 / ratio) + (ratio**2 + ((loc - TARGET_LOC) / TARGET_SCALE) ** 2 - 1) / 2
    return -kl


def elbo_estimate(q: td.Distribution, target: td.Distribution, n: int) -> torch.Tensor:
    x = q.rsample((n,))
    return target.log_prob(x).mean() + q.entropy()


def save_plots(
    path: str, curve: list[float], before: tuple[float, float], after: tuple[float, float]
) -> None:
    fig = Figure(figsize=(10, 4))
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(range(1, len(curve) + 1), curve, lw=1, label="Monte Carlo ELBO (per step)")
    ax1.axhline(0.0, color="gray", ls=":", label="optimum (q = p)")
    ax1.set_xlabel("iteration")
    ax1.set_ylabel("ELBO = -KL(q || p)")
    ax1.set_ylim(min(curve[0], -1.0) * 1.05, 0.5)
    ax1.set_title("pathwise estimator: learning curve")
    ax1.legend(loc="lower right")

    xs = torch.linspace(-2.0, 5.0, 400)
    target = td.Normal(TARGET_LOC, TARGET_SCALE)
    ax2.plot(xs, target.log_prob(xs).exp(), "k", lw=2, label="target p")
    for (loc, scale), style, name in ((before, ":", "q before"), (after, "--", "q after")):
        q = td.Normal(loc, scale)
        ax2.plot(xs, q.log_prob(xs).exp(), ls=style, label=f"{name}: N({loc:.2f}, {scale:.2f})")
    ax2.set_xlabel("x")
    ax2.set_ylabel("density")
    ax2.set_title("densities")
    ax2.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(
    iterations: int | None = None, out_dir: str = "out", seed: int = 0, threads: int | None = 1
) -> dict:
    """Fit q for ``iterations`` (default ``ITERATIONS``) steps; return ELBO before and after.

    ``threads`` temporarily sets ``torch.set_num_threads``; ``None`` leaves it alone.
    """
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _fit(ITERATIONS if iterations is None else iterations, out_dir, seed)
    finally:
        torch.set_num_threads(previous_threads)


def _fit(iterations: int, out_dir: str, seed: int) -> dict:
    torch.manual_seed(seed)
    target = td.Normal(torch.tensor(TARGET_LOC), torch.tensor(TARGET_SCALE))
    loc = torch.zeros((), requires_grad=True)
    raw_scale = torch.zeros((), requires_grad=True)  # scale = softplus(0) = 0.69
    optimizer = torch.optim.Adam([loc, raw_scale], lr=LR)

    def q() -> td.Normal:
        return td.Normal(loc, softplus(raw_scale))

    def evaluate() -> tuple[float, float, float]:
        with torch.no_grad():
            dist = q()
            return (
                float(elbo_estimate(dist, target, EVAL_SAMPLES)),
                float(dist.loc),
                float(dist.scale),
            )

    before, loc0, scale0 = evaluate()
    print(f"iter    0  ELBO {before:8.4f}  loc {loc0:.3f}  scale {scale0:.3f}")

    curve: list[float] = []
    start = time.perf_counter()
    for it in range(1, iterations + 1):
        objective = elbo_estimate(q(), target, N_SAMPLES)
        optimizer.zero_grad()
        (-objective).backward()
        optimizer.step()
        curve.append(objective.item())
        if it % 50 == 0 or it == iterations:
            with torch.no_grad():
                s = float(softplus(raw_scale))
            elapsed = time.perf_counter() - start
            print(
                f"iter {it:4d}  ELBO {curve[-1]:8.4f}  loc {loc.item():.3f}  scale {s:.3f}"
                f"  ({elapsed:4.2f} s)"
            )

    after, loc1, scale1 = evaluate()
    print(
        f"objective before: {before:.4f}, after: {after:.4f}"
        f"  (exact -KL: {exact_elbo(loc0, scale0):.4f} -> {exact_elbo(loc1, scale1):.4f};"
        f" learned N({loc1:.3f}, {scale1:.3f}), target N({TARGET_LOC}, {TARGET_SCALE}))"
    )

    os.makedirs(out_dir, exist_ok=True)
    png = os.path.join(out_dir, "pathwise_normal.png")
    save_plots(png, curve, (loc0, scale0), (loc1, scale1))
    print(f"saved {png}")
    return {
        "before": before,
        "after": after,
        "loc": loc1,
        "scale": scale1,
        "curve": curve,
        "png": png,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--out-dir", default="out")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    main(args.iterations, args.out_dir, args.seed, threads=args.threads)
