"""A variational autoencoder on scikit-learn's 8x8 digits (pathwise gradients through rsample).

The encoder maps an image ``x`` (64 pixels, binarized) to ``q(z|x) = Independent(Normal(mu,
sigma), 1)`` on a 2-D latent space, the decoder maps ``z`` to ``p(x|z) = Independent(
Bernoulli(logits=...), 1)``, and the prior is ``p(z) = Independent(Normal(0, 1), 1)``. Training
maximizes the evidence lower bound

    ELBO(x) = E_{z ~ q(z|x)}[log p(x|z)] - KL(q(z|x) || p(z))

with one draw ``z = q.rsample()`` per image: ``mu + sigma * eps`` is differentiable in the
encoder's outputs, so the reconstruction term's gradient flows through the sample (the pathwise,
or reparameterization, estimator). The KL term is exact (``td.kl_divergence`` dispatches
Independent/Independent to the closed-form Normal/Normal KL).

The data ship with scikit-learn (``sklearn.datasets.load_digits``: 1797 images, nothing is
downloaded).

Run: ``python examples/vae_digits.py`` (about half a minute on one CPU core).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn
from torch.nn.functional import softplus

import torchprob as td

ITERATIONS = 2000  # full run (Adam steps)
BATCH = 128
LATENT = 2
HIDDEN = 64
LR = 2e-3
N_TEST = 297  # the last images are held out


def load_digits(seed: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Binarized 8x8 digits, shuffled with ``seed``: (train, train labels, test, test labels)."""
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    x = torch.as_tensor(digits.data > 7, dtype=torch.float32)  # pixel values are 0..16
    y = torch.as_tensor(digits.target)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    x, y = x[order], y[order]
    return x[:-N_TEST], y[:-N_TEST], x[-N_TEST:], y[-N_TEST:]


class VAE(nn.Module):
    def __init__(self, latent: int = LATENT, hidden: int = HIDDEN) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(64, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * latent),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 64),
        )
        self.register_buffer("zero", torch.zeros(latent))

    def posterior(self, x: Tensor) -> td.Distribution:
        mu, raw_sigma = self.encoder(x).chunk(2, dim=-1)
        return td.Independent(td.Normal(mu, softplus(raw_sigma) + 1e-4), 1)

    def prior(self) -> td.Distribution:
        return td.Independent(td.Normal(self.zero, torch.ones_like(self.zero)), 1)

    def likelihood(self, z: Tensor) -> td.Distribution:
        return td.Independent(td.Bernoulli(logits=self.decoder(z)), 1)

    def elbo(self, x: Tensor) -> Tensor:
        """Per-image ELBO estimate (nats), one pathwise draw of ``z`` each."""
        q = self.posterior(x)
        z = q.rsample()
        return self.likelihood(z).log_prob(x) - td.kl_divergence(q, self.prior())


def save_plots(path: str, model: VAE, data: tuple[Tensor, ...], curves: dict, seed: int) -> None:
    train_x, train_y, test_x, _ = data
    fig = Figure(figsize=(14, 4.2))
    grid = fig.add_gridspec(2, 4, width_ratios=[1.2, 1.2, 1, 1])
    ax_curve = fig.add_subplot(grid[:, 0])
    ax_latent = fig.add_subplot(grid[:, 1])
    ax_recon = fig.add_subplot(grid[0, 2:])
    ax_sample = fig.add_subplot(grid[1, 2:])

    steps = np.arange(1, len(curves["train"]) + 1)
    ax_curve.plot(steps, curves["train"], lw=0.5, alpha=0.6, label="train batch")
    ax_curve.plot(curves["test_steps"], curves["test"], "o-", ms=3, label="test set")
    ax_curve.set_xlabel("Adam step")
    ax_curve.set_ylabel("ELBO per image (nats)")
    ax_curve.set_ylim(max(min(curves["train"]), -60), None)
    ax_curve.set_title("ELBO")
    ax_curve.legend(loc="lower right")

    with torch.no_grad():
        mu = model.posterior(train_x).mean
        points = ax_latent.scatter(*mu.T.numpy(), c=train_y.numpy(), cmap="tab10", s=4)
        fig.colorbar(points, ax=ax_latent, ticks=range(10))
        ax_latent.set_title("posterior means of the training images")
        ax_latent.set_xlabel("$z_1$")
        ax_latent.set_ylabel("$z_2$")

        originals = test_x[:12]
        recon = model.likelihood(model.posterior(originals).mean).mean  # pixel probabilities
        ax_recon.imshow(_tile([originals, recon]), cmap="gray_r", vmin=0, vmax=1)
        ax_recon.set_title("test images (top) and their reconstructions (pixel probabilities)")
        gen = torch.Generator().manual_seed(seed)
        z = model.prior().sample((24,), generator=gen)
        ax_sample.imshow(_tile(model.likelihood(z).mean.split(12)), cmap="gray_r", vmin=0, vmax=1)
        ax_sample.set_title("decoded draws from the prior")
    for ax in (ax_recon, ax_sample):
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def _tile(rows: list[Tensor] | tuple[Tensor, ...]) -> np.ndarray:
    """Rows of 8x8 images (each a batch of 64-vectors) as one image with 1-pixel gaps."""
    padded = [torch.nn.functional.pad(r.reshape(-1, 8, 8), (0, 1, 0, 1), value=0.0) for r in rows]
    return torch.cat([torch.cat(list(p), dim=1) for p in padded], dim=0).numpy()


def main(
    iterations: int | None = None, out_dir: str = "out", seed: int = 0, threads: int | None = 1
) -> dict:
    """Train for ``iterations`` (default ``ITERATIONS``) Adam steps; return the test-set ELBO
    per image before and after.

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
    data = load_digits(seed)
    train_x, _, test_x, _ = data
    model = VAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    gen = torch.Generator().manual_seed(seed)

    def test_elbo() -> float:
        with torch.no_grad():  # average over 10 draws per image, to tame the noise
            return float(torch.stack([model.elbo(test_x) for _ in range(10)]).mean())

    before = test_elbo()
    print(f"iter    0  test ELBO {before:8.3f}")
    curves: dict = {"train": [], "test": [before], "test_steps": [0]}
    start = time.perf_counter()
    for it in range(1, iterations + 1):
        batch = train_x[torch.randint(len(train_x), (BATCH,), generator=gen)]
        loss = -model.elbo(batch).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        curves["train"].append(-loss.item())
        if it % 300 == 0 or it == iterations:
            curves["test"].append(test_elbo())
            curves["test_steps"].append(it)
            elapsed = time.perf_counter() - start
            print(f"iter {it:4d}  test ELBO {curves['test'][-1]:8.3f}  ({elapsed:5.1f} s)")
    after = curves["test"][-1] if iterations else before
    print(f"test ELBO per image before: {before:.3f}, after: {after:.3f}")

    os.makedirs(out_dir, exist_ok=True)
    png = os.path.join(out_dir, "vae_digits.png")
    save_plots(png, model, data, curves, seed)
    print(f"saved {png}")
    return {"before": before, "after": after, "curves": curves, "png": png}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--out-dir", default="out")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    main(args.iterations, args.out_dir, args.seed, threads=args.threads)
