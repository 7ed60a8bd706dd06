"""Example instances for one family group; concatenated into ``tests/examples.py``'s table.

MultivariateNormal (each parameterization, broadcasting either way, ill-conditioned and badly
scaled matrices), LowRankMultivariateNormal, Wishart and LKJCholesky.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import scipy.stats as st
import torch

from torchprob.multivariate.lkj_cholesky import LKJCholesky
from torchprob.multivariate.low_rank_multivariate_normal import LowRankMultivariateNormal
from torchprob.multivariate.multivariate_normal import MultivariateNormal
from torchprob.multivariate.wishart import Wishart

from .examples import Example, t


def spd(d: int, cond: float, seed: int, batch: tuple[int, ...] = ()) -> torch.Tensor:
    """A symmetric positive-definite float64 matrix ``Q diag(eig) Q^T`` with eigenvalues spread
    log-uniformly over ``[1/cond, 1]`` (exactly symmetric)."""
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(batch + (d, d), generator=g, dtype=torch.float64))
    eig = torch.logspace(0, -math.log10(cond), d, dtype=torch.float64)
    s = (q * eig) @ q.mT
    return (s + s.mT) / 2


def badly_scaled(d: int, spread: float, seed: int) -> torch.Tensor:
    """``S R S``: a correlation matrix ``R`` of condition ~10 between scales from 1/spread to
    spread (condition ~spread^4, but benign for a Cholesky factorization)."""
    scales = torch.logspace(-math.log10(spread), math.log10(spread), d, dtype=torch.float64)
    r = spd(d, 10.0, seed)
    root = r.diagonal().sqrt()
    c = (scales / root)[:, None] * r * (scales / root)[None, :]
    return (c + c.mT) / 2


def _covariance(p: dict[str, np.ndarray]) -> np.ndarray:
    if "covariance_matrix" in p:
        return p["covariance_matrix"]
    if "scale_tril" in p:
        return p["scale_tril"] @ np.swapaxes(p["scale_tril"], -1, -2)
    if "precision_matrix" in p:
        return np.linalg.inv(p["precision_matrix"])
    w = p["cov_factor"]
    return w @ np.swapaxes(w, -1, -2) + np.apply_along_axis(np.diag, -1, p["cov_diag"])


class _Batched:
    """A batch of frozen SciPy distributions, one per batch index, with the methods the generic
    suite reads; ``event`` is the number of trailing dims of one draw."""

    def __init__(self, frozen: np.ndarray, event: int, var: np.ndarray, mean: np.ndarray):
        self.frozen, self.event, self._var, self._mean = frozen, event, var, mean

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        batch = self.frozen.shape
        lead = x.shape[: x.ndim - self.event - len(batch)]
        out = np.empty(lead + batch)
        for idx in itertools.product(*map(range, batch)):
            where = (Ellipsis,) + idx + (slice(None),) * self.event
            xs = x[where].reshape((-1,) + x.shape[x.ndim - self.event :])
            if self.event == 2:  # scipy.stats.wishart takes the draws along the last axis
                xs = np.moveaxis(xs, 0, -1)
            out[(Ellipsis,) + idx] = np.reshape(self.frozen[idx].logpdf(xs), lead)
        return out

    def mean(self) -> np.ndarray:
        return self._mean

    def var(self) -> np.ndarray:
        return self._var

    def std(self) -> np.ndarray:
        return np.sqrt(self._var)

    def entropy(self) -> np.ndarray:
        return np.vectorize(lambda f: f.entropy(), otypes=[float])(self.frozen)


def _mvn(p: dict[str, np.ndarray]) -> _Batched:
    cov = _covariance(p)
    batch = np.broadcast_shapes(p["loc"].shape[:-1], cov.shape[:-2])
    loc = np.broadcast_to(p["loc"], batch + p["loc"].shape[-1:])
    cov = np.broadcast_to(cov, batch + cov.shape[-2:])
    frozen = np.empty(batch, dtype=object)
    for idx in itertools.product(*map(range, batch)):
        frozen[idx] = st.multivariate_normal(loc[idx], cov[idx])
    return _Batched(frozen, 1, np.diagonal(cov, 0, -2, -1), loc)


def _wishart(p: dict[str, np.ndarray]) -> _Batched:
    cov = _covariance(p)
    batch = np.broadcast_shapes(p["df"].shape, cov.shape[:-2])
    df = np.broadcast_to(p["df"], batch)
    cov = np.broadcast_to(cov, batch + cov.shape[-2:])
    frozen = np.empty(batch, dtype=object)
    for idx in itertools.product(*map(range, batch)):
        frozen[idx] = st.wishart(df[idx], cov[idx])
    diag = np.diagonal(cov, 0, -2, -1)
    var = df[..., None, None] * (cov**2 + diag[..., :, None] * diag[..., None, :])
    return _Batched(frozen, 2, var, df[..., None, None] * cov)


NO_CDF = {
    "test_goodness_of_fit": "no cdf for a vector or matrix event; sample means and "
    "covariances are tested in test_multivariate.py"
}
ILL = {
    **NO_CDF,
    "test_rsample_grad": "finite differences lose 8 digits at condition 1e8",
    "test_log_prob_gradcheck": "gradcheck's absolute step 1e-6 leaves the positive-definite cone",
    "test_to_pickle_copy": "float32 cannot factorize a matrix of condition 1e8",
}
GAMMA_DRAWS = {
    **NO_CDF,
    "test_rsample_grad": "the chi-square draws' implicit gradient in df is not the derivative of "
    "same-seed draws; FD in the matrix and E[dX/d df] are checked in test_multivariate.py",
}
TRIL = {
    **NO_CDF,
    "test_rsample_grad": "perturbing an upper entry of scale_tril leaves lower_cholesky; "
    "FD over the lower entries in test_multivariate.py",
}
LKJ = {
    **NO_CDF,
    "test_rsample_grad": "no rsample (as torch)",
    "test_invalid_params": "dim < 2 raises without validation (it fixes the event shape), as "
    "torch; concentration is checked in test_multivariate.py",
    "test_to_pickle_copy": "reads .dtype of every param and dim is a Python int; covered in "
    "test_multivariate.py",
}
L4 = torch.linalg.cholesky(spd(4, 50.0, 3, (3,))).contiguous()

EXAMPLES: list[Example] = [
    # ---- MultivariateNormal ---------------------------------------------------------------
    Example(
        MultivariateNormal,
        {"loc": t([1.0, -2.0, 0.5]), "covariance_matrix": spd(3, 20.0, 0) * 4},
        "cov",
        _mvn,
        skip=NO_CDF,
    ),
    Example(
        MultivariateNormal,
        {
            "loc": t([[0.0, 1.0, 2.0, 3.0], [-1.0, 0.0, 1.0, 0.5]]),
            "precision_matrix": spd(4, 30, 1),
        },
        "precision-shared",
        _mvn,
        skip=NO_CDF,
    ),
    Example(
        MultivariateNormal,
        {"loc": t([0.5, -0.5, 0.0, 2.0]), "scale_tril": L4},
        "scale_tril-batch",
        _mvn,
        skip=TRIL,
    ),
    Example(
        MultivariateNormal,
        {"loc": torch.zeros(10, dtype=torch.float64), "covariance_matrix": spd(10, 1e8, 2)},
        "cond-1e8",
        _mvn,
        skip=ILL,
        rtol=1e-6,
        atol=1e-6,
    ),
    Example(
        MultivariateNormal,
        {"loc": torch.zeros(6, dtype=torch.float64), "covariance_matrix": badly_scaled(6, 1e4, 4)},
        "badly-scaled",
        skip={
            **NO_CDF,
            "test_scipy": "SciPy's eigendecomposition drops the 1e-8 scales as singular; mpmath "
            "reference in test_multivariate.py",
            "test_log_prob_gradcheck": "gradcheck's absolute step 1e-6 swamps the 1e-8 entries",
            "test_to_pickle_copy": "float32 cannot factorize a matrix of condition 1e16",
        },
    ),
    # ---- LowRankMultivariateNormal --------------------------------------------------------
    Example(
        LowRankMultivariateNormal,
        {
            "loc": t([1.0, 0.0, -1.0]),
            "cov_factor": t([[1.0], [0.5], [-2.0]]),
            "cov_diag": t([0.5, 1.0, 2.0]),
        },
        "rank1",
        _mvn,
        skip=NO_CDF,
    ),
    Example(
        LowRankMultivariateNormal,
        {
            "loc": t([[0.0, 1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 1.0, 1.0]]),
            "cov_factor": t([[1.0, 0.0], [0.5, 1.0], [0.0, -1.0], [2.0, 0.3], [0.1, 0.1]]),
            "cov_diag": t([[0.1, 0.2, 0.3, 0.4, 0.5], [1.0, 2.0, 3.0, 4.0, 5.0]]),
        },
        "shared-factor",
        _mvn,
        skip=NO_CDF,
    ),
    Example(
        LowRankMultivariateNormal,
        {
            "loc": t([0.0, 0.0, 0.0, 0.0]),
            "cov_factor": t([[3.0], [1.0], [-2.0], [1.0]]),
            "cov_diag": t([1e-8, 1e-8, 1e-8, 1e-8]),
        },
        "low-noise",
        _mvn,
        skip={**ILL, "test_log_prob_gradcheck": "gradcheck's step 1e-6 exceeds cov_diag 1e-8"},
        rtol=1e-6,
        atol=1e-6,
    ),
    # ---- Wishart --------------------------------------------------------------------------
    Example(
        Wishart,
        {"df": t(4.0), "covariance_matrix": torch.eye(3, dtype=torch.float64)},
        "identity",
        _wishart,
        invalid={"df": t(2.0)},
        skip=GAMMA_DRAWS,
    ),
    Example(
        Wishart,
        {"df": t([2.5, 5.0, 20.0]), "scale_tril": L4[0, :3, :3]},
        "df-batch",
        _wishart,
        invalid={"df": t([2.0, 5.0, 20.0])},
        skip=GAMMA_DRAWS,
    ),
    Example(
        Wishart,
        {"df": t(7.0), "precision_matrix": spd(5, 100.0, 5, (2,))},
        "precision",
        _wishart,
        invalid={"df": t(-1.0)},
        skip=GAMMA_DRAWS,
    ),
    Example(
        Wishart,
        {"df": t(6.0), "covariance_matrix": spd(4, 1e6, 6)},
        "cond-1e6",
        _wishart,
        invalid={"df": t(3.0)},
        skip={
            **GAMMA_DRAWS,
            "test_log_prob_gradcheck": "gradcheck's absolute step 1e-6 leaves the cone",
            "test_to_pickle_copy": "float32 loses 6 digits at condition 1e6",
        },
        rtol=1e-8,
        atol=1e-8,
    ),
    # ---- LKJCholesky ----------------------------------------------------------------------
    Example(LKJCholesky, {"dim": 2, "concentration": t(1.0)}, "uniform", skip=LKJ),
    Example(LKJCholesky, {"dim": 3, "concentration": t([0.5, 1.0, 3.0])}, "batch", skip=LKJ),
    Example(
        LKJCholesky,
        {"dim": 6, "concentration": t([0.05, 100.0])},
        "extreme",
        skip={**LKJ, "test_log_prob_gradcheck": "the density's gradient spans 1e4 at eta=0.05"},
    ),
]
