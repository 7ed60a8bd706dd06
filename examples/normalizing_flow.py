"""A normalizing flow on the two-moons density, built from torchprob transforms.

The flow is a ``td.TransformedDistribution``: a standard Normal in 2-D pushed through a stack of
affine coupling layers (RealNVP), each a small ``td.Transform`` subclass written here, with
an ``td.AffineTransform`` at the end that maps the unit-scale latent space onto the data's
scale. A coupling layer keeps one coordinate ``x_a`` and moves the other by an affine map whose
scale and shift are computed from ``x_a`` by a small network:

    y_a = x_a,    y_b = x_b * exp(s(x_a)) + t(x_a),    log|det J| = s(x_a)

so its inverse and its log-det-Jacobian are exact and cheap. ``TransformedDistribution`` turns
the stack into a density, ``log_prob(y) = base.log_prob(x) - sum log|det J|`` with ``x`` the
inverse image of ``y``, which is maximized on samples of the two-moons data (made with numpy).
Sampling runs the layers forward (``flow.sample``), with ``generator=``.

Run: ``python examples/normalizing_flow.py`` (about half a minute on one CPU core).
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

import torchprob as td

ITERATIONS = 3000  # full run (Adam steps)
BATCH = 256
LAYERS = 8
HIDDEN = 64
LR = 2e-3
N_TEST = 2000


def two_moons(n: int, rng: np.random.Generator, noise: float = 0.08) -> Tensor:
    """``n`` points of the two interleaved half circles, with Gaussian noise."""
    upper = rng.random(n) < 0.5
    angle = rng.uniform(0.0, math.pi, n)
    x = np.where(upper, np.cos(angle), 1.0 - np.cos(angle))
    y = np.where(upper, np.sin(angle), 0.5 - np.sin(angle))
    points = np.stack([x, y], axis=1) + noise * rng.standard_normal((n, 2))
    return torch.as_tensor(points, dtype=torch.float32)


class AffineCoupling(td.Transform):
    """``y_b = x_b * exp(s(x_a)) + t(x_a)`` with ``x_a = x[..., keep]`` left as it is."""

    domain = td.constraints.real_vector
    codomain = td.constraints.real_vector
    bijective = True

    def __init__(self, keep: int, hidden: int = HIDDEN) -> None:
        super().__init__()
        self.keep, self.move = keep, 1 - keep
        self.net = nn.Sequential(
            nn.Linear(1, hidden),
            nn.Tanh(),
            nn.Linear(hidden, hidden),
            nn.Tanh(),
            nn.Linear(hidden, 2),
        )

    def _scale_shift(self, x_keep: Tensor) -> tuple[Tensor, Tensor]:
        log_scale, shift = self.net(x_keep.unsqueeze(-1)).unbind(-1)
        return torch.tanh(log_scale), shift  # a bounded log-scale keeps training stable

    def _call(self, x: Tensor) -> Tensor:
        log_scale, shift = self._scale_shift(x[..., self.keep])
        moved = x[..., self.move] * log_scale.exp() + shift
        return self._assemble(x[..., self.keep], moved)

    def _inverse(self, y: Tensor) -> Tensor:
        log_scale, shift = self._scale_shift(y[..., self.keep])
        moved = (y[..., self.move] - shift) * torch.exp(-log_scale)
        return self._assemble(y[..., self.keep], moved)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return self._scale_shift(x[..., self.keep])[0]

    def _assemble(self, kept: Tensor, moved: Tensor) -> Tensor:
        parts = (kept, moved) if self.keep == 0 else (moved, kept)
        return torch.stack(parts, dim=-1)


def make_flow(data: Tensor) -> tuple[td.TransformedDistribution, list[nn.Module]]:
    """The flow and the modules holding its trainable parameters."""
    base = td.Independent(td.Normal(torch.zeros(2), torch.ones(2)), 1)
    couplings = [AffineCoupling(keep=i % 2) for i in range(LAYERS)]
    # Map the unit-scale latent space onto the data's location and scale (fixed, from the data).
    to_data = td.AffineTransform(data.mean(0), data.std(0), event_dim=1)
    flow = td.TransformedDistribution(base, [*couplings, to_data])
    return flow, [c.net for c in couplings]


def save_plots(
    path: str, data: Tensor, flow: td.Distribution, curve: list[float], seed: int
) -> None:
    fig = Figure(figsize=(14, 3.8))
    ax1, ax2, ax3, ax4 = fig.subplots(1, 4)
    lims = (-1.5, 2.5), (-1.0, 1.5)
    ax1.scatter(*data[:2000].T.numpy(), s=2, alpha=0.5)
    ax1.set_title("data: two moons")
    with torch.no_grad():
        drawn = flow.sample((2000,), generator=torch.Generator().manual_seed(seed))
        gx, gy = torch.meshgrid(
            torch.linspace(*lims[0], 200), torch.linspace(*lims[1], 200), indexing="xy"
        )
        density = flow.log_prob(torch.stack([gx, gy], -1)).exp()
    ax2.scatter(*drawn.T.numpy(), s=2, alpha=0.5, color="tab:orange")
    ax2.set_title("flow.sample((2000,))")
    ax3.pcolormesh(gx.numpy(), gy.numpy(), density.numpy(), shading="auto", cmap="magma")
    ax3.set_title("flow.log_prob(x).exp()")
    for ax in (ax1, ax2, ax3):
        ax.set_xlim(*lims[0])
        ax.set_ylim(*lims[1])
        ax.set_aspect("equal")
    ax4.plot(range(1, len(curve) + 1), curve, lw=0.6)
    ax4.set_xlabel("Adam step")
    ax4.set_ylabel("negative log-likelihood (batch)")
    ax4.set_title("learning curve")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main(
    iterations: int | None = None, out_dir: str = "out", seed: int = 0, threads: int | None = 1
) -> dict:
    """Train for ``iterations`` (default ``ITERATIONS``) Adam steps; return the test negative
    log-likelihood before and after.

    ``threads`` temporarily sets ``torch.set_num_threads``; ``None`` leaves it alone.
    """
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _train(ITERATIONS if iterations is None else iterations, out_dir, seed)
    finally:
        torch.set_num_threads(previous_threads)


def _train(iterations: int, out_dir: str, seed: int) -> dict:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    test = two_moons(N_TEST, rng)
    flow, modules = make_flow(test)
    optimizer = torch.optim.Adam([p for m in modules for p in m.parameters()], lr=LR)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(iterations, 1))

    def test_nll() -> float:
        with torch.no_grad():
            return float(-flow.log_prob(test).mean())

    before = test_nll()
    print(f"iter    0  test NLL {before:.4f}")
    curve: list[float] = []
    start = time.perf_counter()
    for it in range(1, iterations + 1):
        nll = -flow.log_prob(two_moons(BATCH, rng)).mean()
        optimizer.zero_grad()
        nll.backward()
        optimizer.step()
        schedule.step()
        curve.append(nll.item())
        if it % 250 == 0 or it == iterations:
            elapsed = time.perf_counter() - start
            print(f"iter {it:4d}  batch NLL {np.mean(curve[-50:]):.4f}  ({elapsed:5.1f} s)")
    after = test_nll()
    print(f"test NLL before: {before:.4f}, after: {after:.4f}")

    os.makedirs(out_dir, exist_ok=True)
    png = os.path.join(out_dir, "normalizing_flow.png")
    save_plots(png, test, flow, curve, seed)
    print(f"saved {png}")
    return {"before": before, "after": after, "curve": curve, "png": png}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--out-dir", default="out")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    main(args.iterations, args.out_dir, args.seed, threads=args.threads)
