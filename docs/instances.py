"""Example instances of every distribution that ``torchprob`` exports, found at run time.

Used by the method tables of the API pages and by the gallery. For a class named ``Name``:

1. ``CURATED[Name]``: three hand-picked parameter settings (scalar batch shape) that make a
   readable plot, built only when ``torchprob`` exports ``Name``;
2. otherwise the entries of the test suite's table (``tests/examples.py``), with each batch
   element taken as one setting (``d[idx]``) and extreme settings left out;
3. otherwise one instance built from the class's ``arg_constraints`` (each parameter
   ``transform_to(constraint)(zeros)``).

So a family that lands later shows up in the docs without an edit here.
"""

from __future__ import annotations

import inspect
import itertools
import math
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

import torchprob as tp

ROOT = Path(__file__).resolve().parent.parent

Factory = Callable[[], Any]


def _t(*values: Any) -> torch.Tensor:
    return torch.tensor(values[0] if len(values) == 1 else values, dtype=torch.float64)


def _cls(name: str) -> Callable[..., Any]:
    return getattr(tp, name)


def _scalar(name: str, *settings: dict[str, Any]) -> list[Factory]:
    """One factory per setting; each keyword becomes a float64 scalar tensor (ints stay ints)."""

    def make(kw: dict[str, Any]) -> Factory:
        return lambda: _cls(name)(
            **{
                k: v if isinstance(v, int) and not isinstance(v, bool) else _t(v)
                for k, v in kw.items()
            }
        )

    return [make(kw) for kw in settings]


def _mixture(weights: list[float], locs: list[float], scales: list[float]) -> Factory:
    return lambda: tp.MixtureSameFamily(
        tp.Categorical(probs=_t(weights)), tp.Normal(_t(locs), _t(scales))
    )


def _logit_normal(loc: float, scale: float) -> Factory:
    return lambda: tp.TransformedDistribution(
        tp.Normal(_t(loc), _t(scale)), [tp.SigmoidTransform()]
    )


# Three settings per family: readable shapes, no extremes (those live in the test table).
CURATED: dict[str, list[Factory]] = {
    "Normal": _scalar(
        "Normal", dict(loc=0.0, scale=1.0), dict(loc=-2.0, scale=0.5), dict(loc=2.0, scale=1.5)
    ),
    "Uniform": _scalar(
        "Uniform", dict(low=0.0, high=1.0), dict(low=-1.0, high=2.0), dict(low=0.5, high=3.0)
    ),
    "Exponential": _scalar("Exponential", dict(rate=0.5), dict(rate=1.0), dict(rate=3.0)),
    "Bernoulli": _scalar("Bernoulli", dict(probs=0.2), dict(probs=0.5), dict(logits=1.5)),
    "Categorical": [
        lambda: tp.Categorical(probs=_t([0.1, 0.2, 0.3, 0.4])),
        lambda: tp.Categorical(probs=_t([0.5, 0.1, 0.1, 0.3])),
        lambda: tp.Categorical(probs=_t([0.25, 0.25, 0.25, 0.25])),
    ],
    "Beta": _scalar(
        "Beta",
        dict(concentration1=0.5, concentration0=0.5),
        dict(concentration1=2.0, concentration0=5.0),
        dict(concentration1=5.0, concentration0=1.5),
    ),
    "Binomial": _scalar(
        "Binomial",
        dict(total_count=10.0, probs=0.2),
        dict(total_count=10.0, probs=0.5),
        dict(total_count=20.0, probs=0.7),
    ),
    "Cauchy": _scalar(
        "Cauchy", dict(loc=0.0, scale=1.0), dict(loc=-2.0, scale=0.5), dict(loc=2.0, scale=2.0)
    ),
    "Chi2": _scalar("Chi2", dict(df=2.0), dict(df=4.0), dict(df=8.0)),
    "ContinuousBernoulli": _scalar(
        "ContinuousBernoulli", dict(probs=0.2), dict(probs=0.5), dict(probs=0.9)
    ),
    "FisherSnedecor": _scalar(
        "FisherSnedecor", dict(df1=2.0, df2=5.0), dict(df1=5.0, df2=10.0), dict(df1=20.0, df2=30.0)
    ),
    "Gamma": _scalar(
        "Gamma",
        dict(concentration=1.0, rate=1.0),
        dict(concentration=3.0, rate=1.0),
        dict(concentration=9.0, rate=2.0),
    ),
    "GeneralizedPareto": _scalar(
        "GeneralizedPareto",
        dict(loc=0.0, scale=1.0, concentration=0.0),
        dict(loc=0.0, scale=1.0, concentration=0.3),
        dict(loc=0.0, scale=1.0, concentration=-0.3),
    ),
    "Geometric": _scalar("Geometric", dict(probs=0.2), dict(probs=0.5), dict(probs=0.8)),
    "Gumbel": _scalar(
        "Gumbel", dict(loc=0.0, scale=1.0), dict(loc=1.0, scale=2.0), dict(loc=-2.0, scale=0.5)
    ),
    "HalfCauchy": _scalar("HalfCauchy", dict(scale=0.5), dict(scale=1.0), dict(scale=2.0)),
    "HalfNormal": _scalar("HalfNormal", dict(scale=0.5), dict(scale=1.0), dict(scale=2.0)),
    "InverseGamma": _scalar(
        "InverseGamma",
        dict(concentration=3.0, rate=1.0),
        dict(concentration=3.0, rate=3.0),
        dict(concentration=6.0, rate=2.0),
    ),
    "Kumaraswamy": _scalar(
        "Kumaraswamy",
        dict(concentration1=1.0, concentration0=3.0),
        dict(concentration1=2.0, concentration0=5.0),
        dict(concentration1=5.0, concentration0=1.0),
    ),
    "Laplace": _scalar(
        "Laplace", dict(loc=0.0, scale=1.0), dict(loc=-2.0, scale=0.5), dict(loc=2.0, scale=2.0)
    ),
    "LogNormal": _scalar(
        "LogNormal", dict(loc=0.0, scale=1.0), dict(loc=0.0, scale=0.5), dict(loc=1.0, scale=0.25)
    ),
    "NegativeBinomial": _scalar(
        "NegativeBinomial",
        dict(total_count=5.0, probs=0.5),
        dict(total_count=10.0, probs=0.3),
        dict(total_count=3.0, probs=0.7),
    ),
    "Pareto": _scalar(
        "Pareto", dict(scale=1.0, alpha=3.0), dict(scale=2.0, alpha=2.0), dict(scale=1.0, alpha=6.0)
    ),
    "Poisson": _scalar("Poisson", dict(rate=1.0), dict(rate=4.0), dict(rate=10.0)),
    "RelaxedBernoulli": _scalar(
        "RelaxedBernoulli",
        dict(temperature=0.5, probs=0.3),
        dict(temperature=1.0, probs=0.5),
        dict(temperature=2.0, probs=0.8),
    ),
    "LogitRelaxedBernoulli": _scalar(
        "LogitRelaxedBernoulli",
        dict(temperature=0.5, probs=0.3),
        dict(temperature=1.0, probs=0.5),
        dict(temperature=2.0, probs=0.8),
    ),
    "StudentT": _scalar(
        "StudentT", dict(df=1.0), dict(df=3.0, loc=1.0), dict(df=30.0, loc=-1.0, scale=0.5)
    ),
    "VonMises": _scalar(
        "VonMises",
        dict(loc=0.0, concentration=1.0),
        dict(loc=1.0, concentration=4.0),
        dict(loc=-2.0, concentration=0.5),
    ),
    "Weibull": _scalar(
        "Weibull",
        dict(scale=1.0, concentration=1.5),
        dict(scale=2.0, concentration=3.0),
        dict(scale=1.0, concentration=5.0),
    ),
    "MixtureSameFamily": [
        _mixture([0.5, 0.5], [-2.0, 2.0], [0.7, 0.7]),
        _mixture([0.6, 0.3, 0.1], [-1.0, 1.0, 4.0], [0.5, 1.0, 0.3]),
        _mixture([0.2, 0.8], [0.0, 0.0], [3.0, 0.5]),
    ],
    "TransformedDistribution": [
        _logit_normal(0.0, 1.0),
        _logit_normal(1.0, 0.5),
        _logit_normal(0.0, 1.8),
    ],
    # Multivariate and composite families: one instance each is enough (method tables).
    "Dirichlet": [lambda: tp.Dirichlet(_t([1.0, 2.0, 3.0]))],
    "Multinomial": [lambda: tp.Multinomial(10, probs=_t([0.2, 0.3, 0.5]))],
    "OneHotCategorical": [lambda: tp.OneHotCategorical(probs=_t([0.2, 0.3, 0.5]))],
    "OneHotCategoricalStraightThrough": [
        lambda: tp.OneHotCategoricalStraightThrough(probs=_t([0.2, 0.3, 0.5]))
    ],
    "RelaxedOneHotCategorical": [
        lambda: tp.RelaxedOneHotCategorical(_t(0.5), probs=_t([0.2, 0.3, 0.5]))
    ],
    "ExpRelaxedCategorical": [lambda: tp.ExpRelaxedCategorical(_t(0.5), probs=_t([0.2, 0.3, 0.5]))],
    "LogisticNormal": [lambda: tp.LogisticNormal(_t([0.0, 1.0]), _t([1.0, 0.5]))],
    "MultivariateNormal": [
        lambda: tp.MultivariateNormal(
            _t([0.0, 1.0]), covariance_matrix=_t([[1.0, 0.5], [0.5, 2.0]])
        )
    ],
    "LowRankMultivariateNormal": [
        lambda: tp.LowRankMultivariateNormal(_t([0.0, 1.0]), _t([[1.0], [0.5]]), _t([1.0, 2.0]))
    ],
    "Wishart": [lambda: tp.Wishart(_t(4.0), covariance_matrix=_t([[1.0, 0.5], [0.5, 2.0]]))],
    "LKJCholesky": [lambda: tp.LKJCholesky(3, _t(2.0))],
    "Independent": [lambda: tp.Independent(tp.Normal(_t([0.0, 1.0, 2.0]), _t([1.0, 1.0, 1.0])), 1)],
}


def exported_distributions(names: list[str] | None = None) -> dict[str, type]:
    """``{name: class}`` of the concrete distribution classes in ``torchprob.__all__``."""
    names = list(tp.__all__) if names is None else names
    found = {}
    for name in names:
        obj = getattr(tp, name, None)
        if (
            isinstance(obj, type)
            and issubclass(obj, tp.Distribution)
            and obj not in (tp.Distribution, tp.ExponentialFamily)
        ):
            found[name] = obj
    return found


def _test_examples() -> list[Any]:
    """The test suite's example table, or ``[]`` when it cannot be imported right now."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    try:
        from tests.examples import EXAMPLES
    except Exception as err:  # a family module in flux must not break the docs
        warnings.warn(f"tests/examples.py not importable ({err!r}); using fallbacks", stacklevel=2)
        return []
    return list(EXAMPLES)


_EXAMPLES_CACHE: list[Any] | None = None


def _examples() -> list[Any]:
    global _EXAMPLES_CACHE
    if _EXAMPLES_CACHE is None:
        _EXAMPLES_CACHE = _test_examples()
    return _EXAMPLES_CACHE


def _ordinary(d: Any) -> bool:
    """Whether a scalar-batch instance has parameters of ordinary size (not 1e30 or 1e-300)."""
    for value in vars(d).values():
        if isinstance(value, torch.Tensor) and value.is_floating_point() and value.numel():
            finite = value[value.isfinite() & (value != 0)].abs()
            if not bool(value.isfinite().all()) or (
                finite.numel() and (float(finite.max()) > 1e3 or float(finite.min()) < 1e-3)
            ):
                return False
    return True


def _from_examples(cls: type) -> Iterator[Any]:
    for ex in _examples():
        if ex.cls is not cls:
            continue
        try:
            d = ex.build()
        except Exception:
            continue
        if not d.batch_shape:
            yield d
            continue
        for idx in itertools.product(*(range(n) for n in d.batch_shape)):
            try:
                yield d[idx]
            except Exception:
                break


def _from_constraints(cls: type) -> Any:
    """One instance from ``arg_constraints``: each parameter is zeros mapped onto its constraint."""
    table = cls.arg_constraints if isinstance(cls.arg_constraints, dict) else {}
    params = inspect.signature(cls.__init__).parameters
    required, optional = {}, {}
    for name, p in params.items():
        c = table.get(name)
        if name == "self" or c is None or tp.constraints.is_dependent(c):
            continue
        shape = (3,) * c.event_dim
        try:
            value = tp.transform_to(c)(torch.zeros(shape, dtype=torch.float64))
        except Exception:
            continue
        (required if p.default is inspect.Parameter.empty else optional)[name] = value
    for extra in [{}] + [{k: v} for k, v in optional.items()]:
        try:
            return cls(**required, **extra)
        except Exception:
            continue
    return None


def instances(name: str, cls: type, count: int = 3) -> list[Any]:
    """Up to ``count`` instances of ``cls`` with batch shape ``()``, by the rules above."""
    if name in CURATED:
        made = []
        for factory in CURATED[name][:count]:
            try:
                made.append(factory())
            except Exception as err:
                warnings.warn(f"curated {name} instance failed: {err!r}", stacklevel=2)
        if made:
            return made
    picked: list[Any] = []
    for d in _from_examples(cls):
        if _ordinary(d):
            picked.append(d)
        if len(picked) == count:
            break
    if picked:
        return picked
    d = _from_constraints(cls)
    return [d] if d is not None else []


def is_univariate(d: Any) -> bool:
    return tuple(d.event_shape) == () and tuple(d.batch_shape) == ()


def fmt_params(d: Any) -> str:
    """A short ``name=value`` description of an instance's parameters, for legends."""
    parts = []
    table = d.arg_constraints if isinstance(d.arg_constraints, dict) else {}
    for key in table:
        value = d.__dict__.get(key)
        if key == "logits" and "probs" in d.__dict__:
            continue  # one of the two alternatives is enough
        if isinstance(value, torch.Tensor) and value.numel() <= 4:
            flat = [float(v) for v in value.reshape(-1)]
            text = ", ".join(f"{v:.3g}" if math.isfinite(v) else str(v) for v in flat)
            parts.append(f"{key}={text if value.numel() == 1 else '[' + text + ']'}")
    for key in ("temperature", "total_count"):
        value = getattr(d, key, None)
        if key not in table and isinstance(value, (int, float, torch.Tensor)):
            parts.append(f"{key}={float(value):.3g}")
    if not parts:  # composites: describe the distributions and transforms inside
        for value in vars(d).values():
            if isinstance(value, tp.Distribution):
                parts.append(f"{type(value).__name__}({fmt_params(value)})")
            elif (
                isinstance(value, (list, tuple))
                and value
                and all(isinstance(v, tp.Transform) for v in value)
            ):
                parts.append(
                    " then ".join(type(v).__name__.replace("Transform", "") for v in value)
                )
    return ", ".join(parts) or type(d).__name__
