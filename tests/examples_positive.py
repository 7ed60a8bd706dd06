"""Example instances for the positive and bounded families (LogNormal, HalfNormal, Pareto,
GeneralizedPareto, VonMises, ContinuousBernoulli); concatenated into ``tests/examples.py``'s table.
"""

from __future__ import annotations

from typing import Any

import mpmath as mp
import numpy as np
import scipy.special as sc
import scipy.stats as st
import torch

from torchprob.continuous.continuous_bernoulli import ContinuousBernoulli
from torchprob.continuous.generalized_pareto import GeneralizedPareto
from torchprob.continuous.half_normal import HalfNormal
from torchprob.continuous.log_normal import LogNormal
from torchprob.continuous.pareto import Pareto
from torchprob.continuous.von_mises import VonMises

from .examples import Example


def t(x: Any) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)


def _lognorm(p):
    return st.lognorm(s=p["scale"], scale=np.exp(p["loc"]))


class _HalfNorm:
    """SciPy's halfnorm, except ``ppf``: SciPy's ``ndtri((1 + q)/2)`` rounds ``q`` away near 0
    and 1 (relative errors of 1e-4 at ``q = 1e-12``); ``sqrt(2) erfinv(q)`` keeps it."""

    def __init__(self, p: dict[str, np.ndarray]) -> None:
        self.scale = p["scale"]
        self.ref = st.halfnorm(scale=p["scale"])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ref, name)

    def ppf(self, q: np.ndarray) -> np.ndarray:
        return np.sqrt(2) * self.scale * sc.erfinv(q)


def _pareto(p):
    return st.pareto(b=p["alpha"], scale=p["scale"])


class _GenPareto:
    """SciPy's genpareto, except that an infinite second moment is ``inf`` (SciPy: ``nan``)."""

    def __init__(self, p: dict[str, np.ndarray]) -> None:
        self.c = np.broadcast_to(p["concentration"], np.broadcast(*p.values()).shape)
        self.ref = st.genpareto(c=p["concentration"], loc=p["loc"], scale=p["scale"])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ref, name)

    def var(self) -> np.ndarray:
        return np.where(self.c >= 0.5, np.inf, self.ref.var())

    def std(self) -> np.ndarray:
        return np.sqrt(self.var())


class _CircularVonMises:
    """SciPy's vonmises with the circular variance (SciPy's ``var`` is the linear one on
    [-pi, pi]); the log-density and entropy are SciPy's. The cdf family is mpmath quadrature
    of the density (SciPy's series and normal approximation lose up to 6 digits in the tails,
    and its ``ppf`` inverts that), with SciPy's convention: 0 and 1 at ``loc -+ pi``, extended
    by ``cdf(x + 2 pi) = cdf(x) + 1``."""

    DPS = 25

    def __init__(self, p: dict[str, np.ndarray]) -> None:
        self.kappa, self.loc = p["concentration"], p["loc"]
        self.ref = st.vonmises(p["concentration"], loc=p["loc"])

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        return self.ref.logpdf(x)

    def mean(self) -> np.ndarray:
        return np.broadcast_to(self.loc, np.broadcast(self.loc, self.kappa).shape)

    def var(self) -> np.ndarray:
        return 1 - sc.i1e(self.kappa) / sc.i0e(self.kappa)

    def std(self) -> np.ndarray:
        return np.sqrt(self.var())

    def entropy(self) -> np.ndarray:
        return self.ref.entropy()

    @classmethod
    def lower(cls, kappa: Any, theta: Any) -> Any:
        """``P(-pi <= X - loc <= theta)`` for ``theta`` in [-pi, 0], an mpmath number."""
        kappa, theta = mp.mpf(kappa), mp.mpf(theta)
        if theta <= -mp.pi:
            return mp.mpf(0)
        c = mp.cos(theta)
        width = theta + mp.pi
        scale = min(width, 1 / mp.sqrt(kappa)) if kappa > 1 else width
        cuts = {theta - min(width, scale * 2**j / 64) for j in range(14)}
        points = sorted({-mp.pi, theta} | {v for v in cuts if v > -mp.pi})
        area = mp.quad(lambda s: mp.exp(kappa * (mp.cos(s) - c)), points)
        return area * mp.exp(kappa * (c - 1)) / (2 * mp.pi * mp.besseli(0, kappa) * mp.exp(-kappa))

    def _cdf_sf(self, x: float, kappa: float, loc: float) -> tuple[Any, Any]:
        with mp.workdps(self.DPS):
            theta = mp.mpf(x) - mp.mpf(loc)
            n = mp.nint(theta / (2 * mp.pi))
            theta -= 2 * mp.pi * n
            g = self.lower(kappa, -abs(theta))
            lo, hi = (1 - g, g) if theta > 0 else (g, 1 - g)
            return lo + n, hi - n

    def _table(self, x: np.ndarray, pick: int) -> np.ndarray:
        x, kappa, loc = np.broadcast_arrays(x, self.kappa, self.loc)
        out = [self._cdf_sf(*v)[pick] for v in zip(x.ravel(), kappa.ravel(), loc.ravel())]
        return np.array([float(v) for v in out]).reshape(x.shape)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return self._table(x, 0)

    def sf(self, x: np.ndarray) -> np.ndarray:
        return self._table(x, 1)

    def logcdf(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.log(self.cdf(x))  # nan left of the window, as SciPy's

    def logsf(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.log(self.sf(x))

    def ppf(self, q: np.ndarray) -> np.ndarray:
        """Safeguarded Newton on ``log F`` in mpmath, from SciPy's ppf (good to ~1e-7)."""
        q, kappa, loc = np.broadcast_arrays(q, self.kappa, self.loc)
        out = [self._ppf(*v) for v in zip(q.ravel(), kappa.ravel(), loc.ravel())]
        return np.array(out).reshape(q.shape)

    def _ppf(self, q: float, kappa: float, loc: float) -> float:
        tail = min(q, 1 - q)
        with mp.workdps(self.DPS):
            k, target = mp.mpf(kappa), mp.log(tail)
            norm = 2 * mp.pi * mp.besseli(0, k) * mp.exp(-k)
            lo, hi = -mp.pi, mp.mpf(0)
            theta = mp.mpf(float(np.clip(st.vonmises.ppf(tail, kappa), -np.pi, 0)))
            for _ in range(100):
                g = self.lower(k, theta)
                f = mp.log(g) - target
                lo, hi = (theta, hi) if f < 0 else (lo, theta)
                new = theta - f * g * norm / mp.exp(k * (mp.cos(theta) - 1))
                new = new if lo <= new <= hi else (lo + hi) / 2
                if abs(new - theta) < mp.mpf(10) ** (2 - self.DPS):
                    break
                theta = new
            return float(loc + (-new if q > 0.5 else new))


NO_FD = {
    "test_rsample_grad": "finite differences are meaningless at these scales",
    "test_log_prob_gradcheck": "finite differences are meaningless at these scales",
}
NO_FLOAT32 = {"test_to_pickle_copy": "float32 cannot hold these parameters"}
GPD_TORCH = {
    "test_torch_parity": "torch's GeneralizedPareto compares a float64 concentration with a "
    "float32 zero (torch.isclose) and raises"
}
VM_SKIP = {
    "test_rsample_grad": "no rsample (as in torch)",
    "test_sample_moments": "mean and variance are circular; checked in test_positive.py",
    "test_torch_parity": "torch's log I0 is a 7-digit polynomial fit; parity at 1e-5 in "
    "test_positive.py",
}
VM_OUTSIDE = {
    "test_goodness_of_fit": "samples are wrapped to [-pi, pi], the cdf's window is [loc - pi, "
    "loc + pi]; KS on samples moved into the window in test_von_mises_cdf.py",
    "test_tail_functions": "samples leave the window [loc - pi, loc + pi], where the periodic "
    "cdf leaves [0, 1] and log_cdf/log_sf are nan (as SciPy's); tails in test_von_mises_cdf.py",
}
CB_HALF = {
    "test_torch_parity": "inside lims torch replaces the cdf, icdf and moments by truncated "
    "Taylor forms (errors up to 1e-4); mpmath references in test_positive.py"
}

EXAMPLES: list[Example] = [
    # ---- LogNormal ------------------------------------------------------------------------
    Example(LogNormal, {"loc": t(0.0), "scale": t(1.0)}, "standard", _lognorm),
    Example(
        LogNormal, {"loc": t([-1.0, 0.5, 3.0]), "scale": t([0.25, 0.5, 1.0])}, "batch", _lognorm
    ),
    Example(
        LogNormal,
        {"loc": t([[-50.0], [20.0]]), "scale": t([[1e-3, 10.0]])},
        "extreme",
        _lognorm,
        skip={"test_sample_moments": "scale 10: the sample mean of e^(10 Z) is not normal"},
    ),
    # ---- HalfNormal -----------------------------------------------------------------------
    Example(HalfNormal, {"scale": t(1.0)}, "unit", _HalfNorm),
    Example(HalfNormal, {"scale": t([0.1, 1.0, 30.0])}, "batch", _HalfNorm),
    Example(
        HalfNormal,
        {"scale": t([1e-150, 1e150])},
        "extreme",
        _HalfNorm,
        skip={**NO_FD, **NO_FLOAT32},
    ),
    # ---- Pareto ---------------------------------------------------------------------------
    Example(Pareto, {"scale": t(1.0), "alpha": t(3.0)}, "standard", _pareto),
    Example(Pareto, {"scale": t([0.5, 2.0, 10.0]), "alpha": t([0.5, 4.5, 7.0])}, "batch", _pareto),
    Example(
        Pareto,
        {"scale": t([[1e-100], [1e100]]), "alpha": t([[0.01, 1e6]])},
        "extreme",
        _pareto,
        skip={**NO_FD, **NO_FLOAT32},
    ),
    # ---- GeneralizedPareto ----------------------------------------------------------------
    Example(
        GeneralizedPareto,
        {"loc": t(0.0), "scale": t(1.0), "concentration": t(0.2)},
        "standard",
        _GenPareto,
        skip={
            **GPD_TORCH,
            "test_invalid_values": "no upper bound: the generic outside value is inf",
        },
    ),
    Example(
        GeneralizedPareto,
        {
            "loc": t([0.0, 1.0, -2.0, 0.5]),
            "scale": t([1.0, 2.0, 0.5, 3.0]),
            "concentration": t([0.0, -0.3, 0.2, -1.0]),
        },
        "exponential-bounded-uniform",
        _GenPareto,
        skip=GPD_TORCH,
    ),
    Example(
        GeneralizedPareto,
        {
            "loc": t([1.0, 0.0, -1.0]),
            "scale": t([1.0, 0.5, 2.0]),
            "concentration": t([0.5, 1.0, 3.0]),
        },
        "heavy",
        _GenPareto,
        skip={
            **GPD_TORCH,
            "test_invalid_values": "no upper bound: the generic outside value is inf",
        },
    ),
    Example(
        GeneralizedPareto,
        {
            "loc": t([[0.0], [1e10]]),
            "scale": t([[1e-10], [1e5]]),
            "concentration": t([[1e-12, -1e-12, -5.0, 20.0]]),
        },
        "extreme",
        _GenPareto,
        skip={**GPD_TORCH, **NO_FD, **NO_FLOAT32, "test_sample_moments": "xi = 20: no mean"},
    ),
    # ---- VonMises -------------------------------------------------------------------------
    Example(
        VonMises,
        {"loc": t(0.0), "concentration": t(1.0)},
        "standard",
        _CircularVonMises,
        skip=VM_SKIP,
    ),  # fmt: skip
    Example(
        VonMises,
        {"loc": t([-2.0, 0.5, 3.0]), "concentration": t([0.01, 2.0, 50.0])},
        "batch",
        _CircularVonMises,
        skip={**VM_SKIP, **VM_OUTSIDE},
    ),
    Example(
        VonMises,
        {"loc": t([0.0, 1.0, -3.0]), "concentration": t([1e-8, 1e4, 1e6])},
        "extreme",
        _CircularVonMises,
        skip={**VM_SKIP, "test_log_prob_gradcheck": "gradcheck's step crosses concentration 0"},
    ),
    # ---- ContinuousBernoulli --------------------------------------------------------------
    Example(ContinuousBernoulli, {"probs": t([0.1, 0.3, 0.9])}, "probs"),
    Example(ContinuousBernoulli, {"probs": t([0.5, 0.4999, 0.5001])}, "probs-half", skip=CB_HALF),
    Example(ContinuousBernoulli, {"logits": t([[-3.0, -0.5], [2.0, 10.0]])}, "logits"),
    Example(
        ContinuousBernoulli,
        {"probs": t([0.0, 1e-300, 1e-20, 1 - 1e-16, 1.0])},
        "probs-boundary",
        skip={
            **NO_FLOAT32,
            "test_torch_parity": "torch clamps probs to [eps, 1 - eps]; we are exact",
            "test_log_prob_gradcheck": "probs 0 and 1 are clamped: no derivative there",
            "test_rsample_grad": "the finite-difference step leaves [0, 1]",
        },
    ),
    Example(
        ContinuousBernoulli,
        {"logits": t([-1000.0, -1e-10, 1e-10, 40.0, 1000.0])},
        "logits-extreme",
        skip={
            "test_torch_parity": "torch's Taylor forms near 0 and overflow at |logits| = 1000",
            "test_rsample_grad": "a step of 1e-16 on logits 1e-10 is below rounding; analytic "
            "check in test_positive.py",
        },
    ),
]
