"""Gallery: the density (or pmf) and cdf of every univariate family that torchprob exports.

For each distribution class in ``torchprob.__all__`` whose example instances have event shape
``()``, draw 10^5 samples from each of three parameter settings (``docs/instances.py``) and plot
the histogram of the samples under the density computed by ``log_prob``, and, where the family
has a ``cdf``, the cdf over the empirical cdf of the same samples. One PNG per family goes to
``docs/gallery/``; the gallery page of the site shows them all.

Each run also prints, per family and setting, the largest standardized deviation of the binned
sample counts from the counts the distribution predicts (from ``cdf`` differences, or from
``log_prob`` integrated over each bin): a number above ~5 means the sampler and the density
disagree.

Run: ``python docs/gallery.py`` (``make gallery``; a few seconds per family).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

DOCS = Path(__file__).resolve().parent
if str(DOCS) not in sys.path:
    sys.path.insert(0, str(DOCS))

import instances as inst  # noqa: E402

N_SAMPLES = 100_000
BINS = 80
COLORS = ["tab:blue", "tab:orange", "tab:green"]


def univariate_families(names: list[str] | None = None) -> dict[str, list[Any]]:
    """``{class name: instances}`` of the exported families whose instances are univariate."""
    found = {}
    for name, cls in inst.exported_distributions(names).items():
        made = [d for d in inst.instances(name, cls) if inst.is_univariate(d)]
        if made:
            found[name] = made
    return found


def _try(fn: Any, *args: Any) -> torch.Tensor | None:
    try:
        return fn(*args)
    except NotImplementedError:
        return None


def _on_support(d: Any, x: torch.Tensor, fn: Any) -> np.ndarray | None:
    """``fn(x)`` where ``x`` is in the support, NaN elsewhere (None when ``fn`` does not exist)."""
    inside = d.support.check(x)
    out = torch.full(x.shape, math.nan, dtype=torch.float64)
    if bool(inside.any()):
        value = _try(fn, x[inside])
        if value is None:
            return None
        out[inside] = value.detach().to(torch.float64)
    return out.numpy()


def _range(dists: list[Any], samples: list[np.ndarray]) -> tuple[float, float]:
    """The plotted interval, covering the bulk of every setting.

    Per setting: the quartiles widened by three interquartile ranges, but no further than the
    0.1% and 99.9% quantiles (so heavy tails do not squash the plot and light ones are not cut);
    then the union, padded by 5% to show where a support ends (the density drops to 0). Where
    every setting's support goes on past the samples (a periodic density such as VonMises'),
    the interval stops at the most extreme sample instead.
    """
    lows, highs = [], []
    for s in samples:
        q = np.quantile(s, [0.001, 0.25, 0.75, 0.999])
        iqr = q[2] - q[1]
        lows.append(max(q[0], q[1] - 3 * iqr))
        highs.append(min(q[3], q[2] + 3 * iqr))
    lo, hi = float(min(lows)), float(max(highs))
    pad = 0.05 * (hi - lo or 1.0)
    extremes = (min(s.min() for s in samples), max(s.max() for s in samples))
    bounds = []
    for edge, extreme in zip((lo - pad, hi + pad), extremes):
        beyond = edge < extreme if edge < lo else edge > extreme
        point = torch.tensor(edge, dtype=torch.float64)
        inside = any(bool(d.support.check(point.to(d.sample().dtype))) for d in dists)
        bounds.append(float(extreme) if beyond and inside else edge)
    return bounds[0], bounds[1]


def _fill_cdf(cdf: np.ndarray) -> np.ndarray:
    """A cdf on a grid with NaN off the support: 0 left of the support, 1 right of it."""
    valid = np.flatnonzero(~np.isnan(cdf))
    if not valid.size:
        return cdf
    out = cdf.copy()
    out[: valid[0]] = 0.0
    out[valid[-1] + 1 :] = 1.0
    return out


def _continuous(d: Any, s: np.ndarray, lo: float, hi: float, axes: Any, c: str, label: str):
    """Plot one continuous setting; return (worst |z| of the bin counts, whether cdf exists)."""
    ax_pdf, ax_cdf = axes
    edges = np.linspace(lo, hi, BINS + 1)
    counts, _ = np.histogram(s, edges)
    width = edges[1] - edges[0]
    ax_pdf.stairs(counts / (len(s) * width), edges, fill=True, alpha=0.3, color=c, lw=0)
    grid = torch.linspace(lo, hi, 801, dtype=torch.float64)
    x = grid.to(d.sample().dtype)
    pdf = _on_support(d, x, lambda v: d.log_prob(v).exp())
    ax_pdf.plot(grid.numpy(), np.nan_to_num(pdf, nan=0.0), color=c, lw=1.6, label=label)
    cdf_edges = _on_support(d, torch.as_tensor(edges, dtype=x.dtype), d.cdf)
    if cdf_edges is not None:
        ax_cdf.plot(grid.numpy(), _fill_cdf(_on_support(d, x, d.cdf)), color=c, lw=1.6)
        ecdf = np.sort(s)[:: max(1, len(s) // 400)]
        ax_cdf.plot(ecdf, np.linspace(0, 1, len(ecdf)), color=c, ls=":", lw=2.5, alpha=0.8)
        mass = np.diff(_fill_cdf(cdf_edges))
    else:  # integrate the density over each bin (midpoint rule, 100 panels a bin)
        h = width / 100
        mids = torch.linspace(lo + h / 2, hi - h / 2, BINS * 100, dtype=x.dtype)
        dens = np.nan_to_num(_on_support(d, mids, lambda v: d.log_prob(v).exp()), nan=0.0)
        mass = dens.reshape(BINS, 100).sum(1) * h
    return _worst_z(counts, mass, len(s)), cdf_edges is not None


def _discrete(d: Any, s: np.ndarray, k: np.ndarray, axes: Any, c: str, label: str, i: int):
    """Plot one discrete setting; return (worst |z| of the counts, whether cdf exists)."""
    ax_pdf, ax_cdf = axes
    ks = torch.as_tensor(k).to(d.sample().dtype)
    pmf = np.nan_to_num(_on_support(d, ks, lambda v: d.log_prob(v).exp()))
    freq = np.bincount((s - k[0]).astype(np.int64), minlength=len(k))[: len(k)] / len(s)
    shift = (i - 1) * 0.27
    ax_pdf.bar(k + shift, freq, width=0.27, color=c, alpha=0.35)
    ax_pdf.plot(k + shift, pmf, "o", color=c, ms=4, label=label)
    cdf = _on_support(d, ks, d.cdf)
    if cdf is not None:
        ax_cdf.step(k, _fill_cdf(cdf), where="post", color=c, lw=1.6)
        ax_cdf.plot(k, np.cumsum(freq), "x", color=c, ms=5)
    return _worst_z(freq * len(s), pmf, len(s)), cdf is not None


def _worst_z(counts: np.ndarray, mass: np.ndarray, n: int) -> float:
    expected = mass * n
    keep = expected >= 20
    if not keep.any():
        return math.nan
    z = (counts[keep] - expected[keep]) / np.sqrt(expected[keep] * (1 - mass[keep]).clip(1e-12))
    return float(np.abs(z).max())


def render_family(name: str, dists: list[Any], path: Path, seed: int = 0) -> list[float]:
    """Write ``path`` for one family; return the worst |z| of each setting."""
    labels = [inst.fmt_params(d) for d in dists]  # before lazy attributes appear
    gen = torch.Generator().manual_seed(seed)
    samples = [d.sample((N_SAMPLES,), generator=gen).double().numpy() for d in dists]
    discrete = bool(dists[0].support.is_discrete)
    fig = Figure(figsize=(9.5, 3.8))
    axes = fig.subplots(1, 2)
    worst, has_cdf = [], False
    if discrete:
        lo = int(min(s.min() for s in samples))
        hi = int(max(np.quantile(s, 0.999) for s in samples))
        k = np.arange(lo, hi + 1)
        samples = [np.clip(s, lo, hi + 1) for s in samples]
    else:
        lo, hi = _range(dists, samples)
    for i, (d, s, label) in enumerate(zip(dists, samples, labels)):
        if discrete:
            z, ok = _discrete(d, s, k, axes, COLORS[i], label, i)
        else:
            z, ok = _continuous(d, s, lo, hi, axes, COLORS[i], label)
        worst.append(z)
        has_cdf |= ok
    _decorate(fig, axes, name, discrete, has_cdf, (lo, hi), labels)
    fig.savefig(path, dpi=100)
    return worst


def _decorate(
    fig: Any, axes: Any, name: str, discrete: bool, has_cdf: bool, xlim: Any, labels: list[str]
) -> None:
    ax_pdf, ax_cdf = axes
    what = "pmf (dots) and sample frequencies (bars)" if discrete else "density and histogram"
    ax_pdf.set_title(f"{name}: {what} of 10$^5$ draws", fontsize=10)
    if not discrete:  # a density with a pole must not squash the histogram
        hist_top = max(patch.get_path().vertices[:, 1].max() for patch in ax_pdf.patches)
        curve_top = max(float(np.max(line.get_ydata())) for line in ax_pdf.get_lines())
        ax_pdf.set_ylim(0, 1.08 * max(hist_top, min(curve_top, 2 * hist_top)))
        ax_pdf.set_xlim(*xlim)
    ax_pdf.set_xlabel("x")
    if has_cdf:
        style = "steps: cdf, crosses: empirical" if discrete else "line: cdf, dots: empirical"
        ax_cdf.set_title(f"{name}: cdf ({style})", fontsize=10)
        ax_cdf.set_ylim(-0.02, 1.02)
        ax_cdf.set_xlim(ax_pdf.get_xlim())
        ax_cdf.set_xlabel("x")
    else:
        ax_cdf.text(0.5, 0.5, f"{name} has no cdf", ha="center", va="center", fontsize=11)
        ax_cdf.set_axis_off()
    handles = ax_pdf.get_lines()
    ncol = 3 if max(len(label) for label in labels) <= 38 else 1
    fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.07 if ncol == 3 else 0.16, 1, 1))


def render(
    out_dir: Path = DOCS / "gallery", names: list[str] | None = None
) -> dict[str, list[float]]:
    """Render every univariate family into ``out_dir``, removing figures of earlier runs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.png"):
        old.unlink()
    report = {}
    for name, dists in univariate_families(names).items():
        start = time.perf_counter()
        try:
            report[name] = render_family(name, dists, out_dir / f"{name}.png")
        except Exception as err:  # one broken family must not stop the gallery
            print(f"{name:28s} FAILED: {err!r}")
            continue
        zs = ", ".join(f"{z:4.1f}" for z in report[name])
        print(f"{name:28s} worst |z| per setting: {zs}   ({time.perf_counter() - start:.1f} s)")
    return report


def page_markdown(out_dir: Path = DOCS / "gallery") -> str:
    """The gallery page: one section per figure found in ``out_dir``."""
    lines = [
        "# Gallery",
        "",
        "Every univariate family that `torchprob` exports, at three parameter settings: the",
        "density (or pmf) computed by `log_prob` over a histogram of $10^5$ draws from",
        "`sample`, and the `cdf` over the empirical cdf of the same draws where the family has",
        "one. Drawn by `docs/gallery.py` (`make gallery`) when the site is built, so families",
        "that land later appear here without an edit.",
        "",
    ]
    figures = sorted(out_dir.glob("*.png"))
    if not figures:
        lines.append("No figures yet: run `make gallery` (or `make docs`).")
    for fig in figures:
        lines += [f"## {fig.stem}", "", f"![{fig.stem}](gallery/{fig.name})", ""]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=DOCS / "gallery")
    parser.add_argument("--only", nargs="*", help="class names (default: torchprob.__all__)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    start = time.perf_counter()
    report = render(args.out_dir, args.only)
    print(f"{len(report)} figures in {args.out_dir} ({time.perf_counter() - start:.1f} s)")
    return report


if __name__ == "__main__":
    main()
