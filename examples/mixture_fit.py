"""Maximum likelihood: fit a mixture of Normals to data with Adam.

The model is ``td.MixtureSameFamily(td.Categorical(logits=w), td.Normal(loc, softplus(s)))``
with unconstrained parameters ``w``, ``loc`` and ``s``. Its ``log_prob`` marginalizes the
component exactly (a ``logsumexp`` over the components), so the negative log-likelihood of the
data is a smooth function of the parameters and plain gradient descent fits it; no EM needed.

The data are drawn from a known three-component mixture (with ``sample(generator=...)``), so
the fit can be checked: the fitted negative log-likelihood should approach the one of the true
mixture on the same data, and the fitted components the true ones.

Run: ``python examples/mixture_fit.py`` (a few seconds).
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from matplotlib.figure import Figure
from torch.nn.functional import softplus

import torchprob as td

ITERATIONS = 600  # full run (full-batch Adam steps)
N_DATA = 3000
LR = 0.05
TRUE_WEIGHTS = [0.5, 0.3, 0.2]
TRUE_LOCS = [-2.0, 1.0, 4.0]
TRUE_SCALES = [0.6, 1.0, 0.4]
K = 3  # components of the fitted model


def mixture(logits: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> td.Distribution:
    return td.MixtureSameFamily(td.Categorical(logits=logits), td.Normal(loc, scale))


def true_mixture() -> td.Distribution:
    return mixture(
        torch.tensor(TRUE_WEIGHTS).log(), torch.tensor(TRUE_LOCS), torch.tensor(TRUE_SCALES)
    )


def save_plots(path: str, data: torch.Tensor, fitted: td.Distribution, curve: list[float]) -> None:
    fig = Figure(figsize=(11, 4))
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1.6, 1])
    xs = torch.linspace(float(data.min()) - 1, float(data.max()) + 1, 600)
    ax1.hist(data.numpy(), bins=80, density=True, color="lightgray", label="data")
    with torch.no_grad():
        true_pdf = true_mixture().log_prob(xs).exp().numpy()
        fitted_pdf = fitted.log_prob(xs).exp().numpy()
        weights = fitted.mixture_distribution.probs
        parts = (fitted.component_distribution.log_prob(xs[:, None]).exp() * weights).numpy()
    ax1.plot(xs.numpy(), true_pdf, "k--", lw=1.5, label="true mixture")
    ax1.plot(xs.numpy(), fitted_pdf, "tab:red", lw=2, label="fitted mixture")
    for k in range(parts.shape[1]):
        ax1.plot(xs.numpy(), parts[:, k], "tab:red", lw=0.8, ls=":")
    ax1.set_xlabel("x")
    ax1.set_ylabel("density")
    ax1.set_title("MixtureSameFamily fitted by maximum likelihood (dotted: components)")
    ax1.legend(loc="upper left")
    ax2.plot(range(1, len(curve) + 1), curve, lw=1)
    ax2.set_xlabel("Adam step")
    ax2.set_ylabel("negative log-likelihood per point")
    ax2.set_title("learning curve")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(
    iterations: int | None = None, out_dir: str = "out", seed: int = 0, threads: int | None = 1
) -> dict:
    """Fit for ``iterations`` (default ``ITERATIONS``) Adam steps; return the NLL before and
    after, the NLL of the true mixture on the same data, and the fitted parameters.

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
    gen = torch.Generator().manual_seed(seed)
    data = true_mixture().sample((N_DATA,), generator=gen)
    with torch.no_grad():
        true_nll = float(-true_mixture().log_prob(data).mean())

    # Unconstrained parameters; the locations start at evenly spaced quantiles of the data.
    logits = torch.zeros(K, requires_grad=True)
    levels = (torch.arange(K) + 0.5) / K
    loc = data.quantile(levels).requires_grad_(True)
    raw_scale = torch.zeros(K, requires_grad=True)  # scale = softplus(0) = 0.69
    optimizer = torch.optim.Adam([logits, loc, raw_scale], lr=LR)

    def model() -> td.Distribution:
        return mixture(logits, loc, softplus(raw_scale))

    with torch.no_grad():
        before = float(-model().log_prob(data).mean())
    print(f"iter    0  NLL {before:.4f}  (true mixture: {true_nll:.4f})")

    curve: list[float] = []
    start = time.perf_counter()
    for it in range(1, iterations + 1):
        nll = -model().log_prob(data).mean()
        optimizer.zero_grad()
        nll.backward()
        optimizer.step()
        curve.append(nll.item())
        if it % 100 == 0 or it == iterations:
            print(f"iter {it:4d}  NLL {curve[-1]:.4f}  ({time.perf_counter() - start:4.2f} s)")

    fitted = model()
    with torch.no_grad():
        after = float(-fitted.log_prob(data).mean())
        order = fitted.component_distribution.loc.argsort()
        weights = fitted.mixture_distribution.probs[order].tolist()
        locs = fitted.component_distribution.loc[order].tolist()
        scales = fitted.component_distribution.scale[order].tolist()
    print(f"NLL before: {before:.4f}, after: {after:.4f}, true mixture: {true_nll:.4f}")
    for w, m, s in zip(weights, locs, scales):
        print(f"  component: weight {w:.3f}  loc {m:+.3f}  scale {s:.3f}")

    os.makedirs(out_dir, exist_ok=True)
    png = os.path.join(out_dir, "mixture_fit.png")
    save_plots(png, data, fitted, curve)
    print(f"saved {png}")
    return {
        "before": before,
        "after": after,
        "true_nll": true_nll,
        "weights": weights,
        "locs": locs,
        "scales": scales,
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
