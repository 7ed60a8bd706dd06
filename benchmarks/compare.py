"""torchprob vs torch.distributions, measured in one process and reported as ratios.

Usage::

    python benchmarks/compare.py                    # full run, about 1-2 minutes on 2 cores
    python benchmarks/compare.py --quick            # a few seconds, for the smoke test
    python benchmarks/compare.py --only Normal,Categorical --batch 1 --json out.json
    python benchmarks/compare.py --section transforms  # the transforms section (not in "all")
    python benchmarks/compare.py --section special     # torchprob.special vs SciPy (not in "all")

Ratio = torchprob time / torch time, so a ratio below 1 means torchprob is faster.  Each section
ends with the geometric mean of its ratios.

Sections
--------
tiny
    One "step" = construct + ``rsample()`` (``sample()`` where ``has_rsample`` is False) +
    ``log_prob`` of that sample, at batch shape ``()`` (add more with ``--batch N``), with
    ``validate_args=False`` and ``validate_args=True`` passed to the constructor.  Parameter
    tensors are built once, outside the timed loop.  This is the per-call overhead that dominates
    an RL step.  Every class is looked up by name in both libraries; a class (or an inner object,
    see ``Make``) that the candidate lacks is reported as skipped.
big
    Construct + ``log_prob(value)`` on a 10**7-element value with scalar parameters, next to the
    time of one ``clone()`` of the largest input tensor, measured in the same interleaved rounds:
    that clone is the memory-bandwidth floor, and ``time/clone`` says how many passes over memory a
    library spends.  Construction is inside the timed call so that a library that normalizes
    eagerly (``Categorical``) and one that does it lazily are charged the same work; with scalar
    parameters it costs microseconds against milliseconds.
transforms
    ``y = t(x)`` then ``t.log_abs_det_jacobian(x, y)`` (the forward pass of a flow layer), at a
    scalar ``x`` (one torch thread, like tiny) and at 10**6 elements (like big, with its clone
    floor).  Run it with ``--section transforms``; ``all`` does not include it.
special
    ``torchprob.special`` against SciPy's ufunc of the same name on the same 10**6 values (numpy
    arrays and the tensors sharing their memory), both on one thread (``torch.set_num_threads(1)``;
    SciPy's ufuncs are single-threaded), CPU clock.  The reference is SciPy, not torch (which lacks
    these functions): its times fill the torch columns of the JSON.  Run it with
    ``--section special``; ``all`` does not include it.

Method
------
* Warm-up, then calibration: each callable gets its own loop count N so that one timed block
  lasts about ``target`` (25 ms for tiny, 50 ms for big, where N is usually 1).
* Interleaving: in every round each library runs one block, and the order rotates from round to
  round (torch, torchprob / torchprob, torch / ...), so drift and noise hit both alike.
* Reported: the median over rounds of the per-call time.
* Clock (``--clock auto``, the default): the tiny section reads ``time.process_time_ns``, the CPU
  time of this process.  With one torch thread that equals the wall time on an idle machine, but
  it does not count the time other processes hold the CPU: on a 2-core machine at load 4, a null
  run (``--candidate torch.distributions``) gave ratios within 0.97-1.04 with it and 0.5-2.0 with
  ``time.perf_counter_ns``.  The big section reads ``time.perf_counter_ns`` (wall time: with several
  threads, CPU time would sum them), unless ``--threads 1``, where it reads CPU time as well.
  ``--clock wall`` or ``--clock cpu`` forces one clock for both.  Kernel time (page faults of fresh
  allocations) is CPU time and is counted.
* The garbage collector stays enabled (garbage a library creates is part of its cost); the
  objects alive at start (torch itself) are moved out of its way with ``gc.freeze()`` so that its
  collections stay cheap, and the big section collects after each distribution.
* Threads: the tiny section runs with ``torch.set_num_threads(1)``: it measures Python and
  dispatcher overhead, its tensors are far below torch's parallel grain size, and the only thread
  work left (MKL waking its pool for a 3x3 Cholesky) costs a scheduler artefact of milliseconds on a
  busy machine, not library overhead.  The big section keeps torch's default thread count, which
  is what a user gets (``--threads N`` overrides it).  Both counts and the load average are printed:
  other processes on the machine make every time noisier, the interleaved ratios much less so.
* Warnings raised by the libraries (e.g. Wishart's "singular sample") are silenced while timing.

Extending: add one line per distribution to ``TINY`` (and to ``BIG`` where a big elementwise
``log_prob`` makes sense), one line per transform to ``TRANSFORMS``.  A builder receives the
batch shape (or the size) and returns the constructor keywords; an argument that is itself a
library object (a base distribution, a transform) is written ``Make("Normal", loc=...,
scale=...)`` and built from each library in turn.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import math
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

REFERENCE = "torch.distributions"


class Make:
    """A library object used as an argument (a base distribution, a transform, ...).

    ``Make("transforms.ExpTransform")`` or ``Make("Normal", loc=..., scale=...)``: the name is
    looked up in the library under test, so each library gets its own object, built once at
    setup and not inside the timed loop.
    """

    def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.name, self.args, self.kwargs = name, args, kwargs

    def __repr__(self) -> str:
        return f"Make({self.name!r})"


class Missing(Exception):
    """The library under test lacks a class the case needs."""


def z(shape: tuple[int, ...]) -> torch.Tensor:
    return torch.zeros(shape)


def o(shape: tuple[int, ...]) -> torch.Tensor:
    return torch.ones(shape)


def full(shape: tuple[int, ...], value: float) -> torch.Tensor:
    return torch.full(shape, value)


def eye(shape: tuple[int, ...], k: int) -> torch.Tensor:
    return torch.eye(k).expand(shape + (k, k)).contiguous()


# One line per distribution: (class name, batch shape -> constructor keywords).
TINY: list[tuple[str, Callable[[tuple[int, ...]], dict[str, Any]]]] = [
    ("Normal", lambda s: dict(loc=z(s), scale=o(s))),
    ("Uniform", lambda s: dict(low=z(s), high=o(s))),
    ("Bernoulli", lambda s: dict(probs=full(s, 0.3))),
    ("Categorical", lambda s: dict(logits=z(s + (4,)))),
    ("Exponential", lambda s: dict(rate=o(s))),
    ("Beta", lambda s: dict(concentration1=full(s, 2.0), concentration0=full(s, 3.0))),
    ("Binomial", lambda s: dict(total_count=full(s, 10.0), probs=full(s, 0.3))),
    ("Cauchy", lambda s: dict(loc=z(s), scale=o(s))),
    ("Chi2", lambda s: dict(df=full(s, 3.0))),
    ("ContinuousBernoulli", lambda s: dict(probs=full(s, 0.3))),
    ("Dirichlet", lambda s: dict(concentration=full(s + (3,), 2.0))),
    ("FisherSnedecor", lambda s: dict(df1=full(s, 3.0), df2=full(s, 5.0))),
    ("Gamma", lambda s: dict(concentration=full(s, 2.0), rate=o(s))),
    ("GeneralizedPareto", lambda s: dict(loc=z(s), scale=o(s), concentration=full(s, 0.2))),
    ("Geometric", lambda s: dict(probs=full(s, 0.3))),
    ("Gumbel", lambda s: dict(loc=z(s), scale=o(s))),
    ("HalfCauchy", lambda s: dict(scale=o(s))),
    ("HalfNormal", lambda s: dict(scale=o(s))),
    ("InverseGamma", lambda s: dict(concentration=full(s, 3.0), rate=o(s))),
    ("Kumaraswamy", lambda s: dict(concentration1=full(s, 2.0), concentration0=full(s, 3.0))),
    ("Laplace", lambda s: dict(loc=z(s), scale=o(s))),
    ("LogNormal", lambda s: dict(loc=z(s), scale=o(s))),
    ("NegativeBinomial", lambda s: dict(total_count=full(s, 5.0), probs=full(s, 0.3))),
    ("Pareto", lambda s: dict(scale=o(s), alpha=full(s, 3.0))),
    ("Poisson", lambda s: dict(rate=full(s, 3.0))),
    ("StudentT", lambda s: dict(df=full(s, 4.0), loc=z(s), scale=o(s))),
    ("VonMises", lambda s: dict(loc=z(s), concentration=o(s))),
    ("Weibull", lambda s: dict(scale=o(s), concentration=full(s, 2.0))),
    ("OneHotCategorical", lambda s: dict(logits=z(s + (4,)))),
    ("OneHotCategoricalStraightThrough", lambda s: dict(logits=z(s + (4,)))),
    ("Multinomial", lambda s: dict(total_count=10, probs=full(s + (4,), 0.25))),
    ("RelaxedBernoulli", lambda s: dict(temperature=torch.tensor(0.5), probs=full(s, 0.3))),
    ("RelaxedOneHotCategorical", lambda s: dict(temperature=torch.tensor(0.5), logits=z(s + (4,)))),
    ("LogisticNormal", lambda s: dict(loc=z(s + (3,)), scale=o(s + (3,)))),
    ("MultivariateNormal", lambda s: dict(loc=z(s + (3,)), scale_tril=eye(s, 3))),
    (
        "LowRankMultivariateNormal",
        lambda s: dict(loc=z(s + (3,)), cov_factor=full(s + (3, 2), 0.5), cov_diag=o(s + (3,))),
    ),
    ("Wishart", lambda s: dict(df=full(s, 5.0), scale_tril=eye(s, 3))),
    ("LKJCholesky", lambda s: dict(dim=3, concentration=full(s, 2.0))),
    (
        "Independent",
        lambda s: dict(
            base_distribution=Make("Normal", loc=z(s + (3,)), scale=o(s + (3,))),
            reinterpreted_batch_ndims=1,
        ),
    ),
    (
        "MixtureSameFamily",
        lambda s: dict(
            mixture_distribution=Make("Categorical", logits=z(s + (3,))),
            component_distribution=Make("Normal", loc=z(s + (3,)), scale=o(s + (3,))),
        ),
    ),
    (
        "TransformedDistribution",
        lambda s: dict(
            base_distribution=Make("Normal", loc=z(s), scale=o(s)),
            transforms=[Make("transforms.ExpTransform")],
        ),
    ),
]


def sc(v: float) -> torch.Tensor:
    """A 0-dim float32 parameter (the big section's parameters are scalars)."""
    return torch.tensor(v)


def u01(n: int) -> torch.Tensor:
    """``n`` values strictly inside (0, 1): ``rand`` gives an exact 0 about once per 2**24."""
    return torch.rand(n).mul_(0.998).add_(0.001)


def pos(n: int) -> torch.Tensor:
    """``n`` positive values (exponential(1), shifted off 0)."""
    return torch.empty(n).exponential_().add_(1e-3)


def counts(n: int, mean: float) -> torch.Tensor:
    """``n`` non-negative integer values (Poisson(mean) draws, as float32)."""
    return torch.poisson(torch.full((n,), mean))


# One line per distribution: (class name, size n -> (constructor keywords, value)).  The value
# (or, for Categorical, the logits) has n elements; the parameters are scalars.  Every univariate
# family of torch.distributions is here (those whose log_prob needs special functions too);
# ``BIG_NOT_ELEMENTWISE`` names the rows the throughput-vs-copy summary leaves out.
BIG: list[tuple[str, Callable[[int], tuple[dict[str, Any], torch.Tensor]]]] = [
    ("Normal", lambda n: (dict(loc=sc(0.0), scale=sc(1.0)), torch.randn(n))),
    ("Uniform", lambda n: (dict(low=sc(0.0), high=sc(1.0)), u01(n))),
    ("Exponential", lambda n: (dict(rate=sc(1.5)), pos(n))),
    ("Beta", lambda n: (dict(concentration1=sc(2.0), concentration0=sc(3.0)), u01(n))),
    ("Cauchy", lambda n: (dict(loc=sc(0.0), scale=sc(1.0)), torch.randn(n))),
    ("Chi2", lambda n: (dict(df=sc(3.0)), pos(n))),
    ("ContinuousBernoulli", lambda n: (dict(probs=sc(0.3)), u01(n))),
    ("FisherSnedecor", lambda n: (dict(df1=sc(3.0), df2=sc(5.0)), pos(n))),
    ("Gamma", lambda n: (dict(concentration=sc(2.0), rate=sc(1.0)), pos(n))),
    (
        "GeneralizedPareto",
        lambda n: (dict(loc=sc(0.0), scale=sc(1.0), concentration=sc(0.2)), pos(n)),
    ),
    ("Gumbel", lambda n: (dict(loc=sc(0.0), scale=sc(1.0)), torch.randn(n))),
    ("HalfCauchy", lambda n: (dict(scale=sc(1.0)), pos(n))),
    ("HalfNormal", lambda n: (dict(scale=sc(1.0)), pos(n))),
    ("InverseGamma", lambda n: (dict(concentration=sc(3.0), rate=sc(1.0)), pos(n))),
    ("Kumaraswamy", lambda n: (dict(concentration1=sc(2.0), concentration0=sc(3.0)), u01(n))),
    ("Laplace", lambda n: (dict(loc=sc(0.0), scale=sc(1.0)), torch.randn(n))),
    ("LogNormal", lambda n: (dict(loc=sc(0.0), scale=sc(1.0)), pos(n))),
    ("Pareto", lambda n: (dict(scale=sc(1.0), alpha=sc(3.0)), pos(n).add_(1.0))),
    ("StudentT", lambda n: (dict(df=sc(4.0), loc=sc(0.0), scale=sc(1.0)), torch.randn(n))),
    (
        "VonMises",
        lambda n: (dict(loc=sc(0.0), concentration=sc(1.0)), u01(n).sub_(0.5).mul_(2 * math.pi)),
    ),
    ("Weibull", lambda n: (dict(scale=sc(1.0), concentration=sc(2.0)), pos(n))),
    ("Bernoulli", lambda n: (dict(probs=sc(0.3)), torch.rand(n).lt(0.3).float())),
    (
        "Binomial",
        lambda n: (dict(total_count=sc(10.0), probs=sc(0.3)), counts(n, 3.0).clamp_(max=10)),
    ),
    ("Geometric", lambda n: (dict(probs=sc(0.3)), counts(n, 2.0))),
    ("NegativeBinomial", lambda n: (dict(total_count=sc(5.0), probs=sc(0.3)), counts(n, 2.0))),
    ("Poisson", lambda n: (dict(rate=sc(3.0)), counts(n, 3.0))),
    ("RelaxedBernoulli", lambda n: (dict(temperature=sc(0.5), probs=sc(0.3)), u01(n))),
    (
        "Categorical",
        lambda n: (dict(logits=torch.randn(n // 10, 10)), torch.randint(0, 10, (n // 10,))),
    ),
]
BIG_NOT_ELEMENTWISE = {"Categorical"}
THROUGHPUT_LIMIT = 3.0  # the goal (issue 9): every elementwise log_prob within 3 clones


def _tr(name: str, *args: Any, **kwargs: Any) -> Make:
    return Make("transforms." + name, *args, **kwargs)


# One line per transform: (name, size n -> (transform, x)); n = 0 means a scalar x.
TRANSFORMS: list[tuple[str, Callable[[int], tuple[Make, torch.Tensor]]]] = [
    (
        "Compose(Affine,Exp)",
        lambda n: (
            _tr("ComposeTransform", [_tr("AffineTransform", 0.5, 2.0), _tr("ExpTransform")]),
            torch.randn(n) if n else torch.randn(()),
        ),
    ),
    (
        "Compose(Affine,Sigmoid)",
        lambda n: (
            _tr(
                "ComposeTransform",
                [
                    _tr("AffineTransform", torch.tensor(0.5), torch.tensor(2.0)),
                    _tr("SigmoidTransform"),
                ],
            ),
            torch.randn(n) if n else torch.randn(()),
        ),
    ),
    ("Tanh", lambda n: (_tr("TanhTransform"), torch.randn(n) if n else torch.randn(()))),
]
TRANSFORMS_N = 10**6


SPECIAL_N = 1_000_000


def _special_data(n: int, k: int) -> list[Any]:
    """k shape-like arrays log-uniform on [0.1, 1000] and one uniform on (0, 1), fixed seed."""
    g = torch.Generator().manual_seed(0)
    shapes = [torch.empty(n, dtype=torch.float64).uniform_(-1, 3, generator=g) for _ in range(k)]
    u = torch.rand(n, dtype=torch.float64, generator=g)
    return [(10.0**s).numpy() for s in shapes] + [u.numpy()]


# One line per function: (name, size n -> numpy arguments); SciPy's function of the same name is
# the reference.
SPECIAL: list[tuple[str, Callable[[int], list[Any]]]] = [
    ("betainc", lambda n: _special_data(n, 2)),  # a, b, x
    ("gammaincinv", lambda n: _special_data(n, 1)),  # a, p
]


# ----------------------------------------------------------------------------------------------
# Looking things up in a library


# Whole calls at realistic sizes (section "calls"): each builder gets a library and returns a
# zero-argument callable; inputs are built once per library, outside the timed loop.
def _mvn_pair(lib: Any, b: int, d: int) -> tuple[Any, Any, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    a = torch.randn(b, d, d, generator=g) / d**0.5 + 2 * torch.eye(d)
    tril_p = torch.linalg.cholesky(a @ a.mT)
    a = torch.randn(b, d, d, generator=g) / d**0.5 + 2 * torch.eye(d)
    tril_q = torch.linalg.cholesky(a @ a.mT)
    loc = torch.randn(b, d, generator=g)
    return tril_p, tril_q, loc


def _call_kl_normal(lib: Any) -> Callable[[], Any]:
    a, b = torch.randn(1000), torch.rand(1000) + 0.5
    return lambda: lib.kl_divergence(lib.Normal(a, b), lib.Normal(b, a.abs() + 0.1))


def _call_kl_categorical(lib: Any) -> Callable[[], Any]:
    p, q = torch.randn(1000, 100), torch.randn(1000, 100)
    return lambda: lib.kl_divergence(lib.Categorical(logits=p), lib.Categorical(logits=q))


def _call_kl_mvn(lib: Any) -> Callable[[], Any]:
    tp_, tq, loc = _mvn_pair(lib, 1000, 64)
    return lambda: lib.kl_divergence(
        lib.MultivariateNormal(loc, scale_tril=tp_), lib.MultivariateNormal(-loc, scale_tril=tq)
    )


def _call_mvn_log_prob(lib: Any) -> Callable[[], Any]:
    tril, _, loc = _mvn_pair(lib, 1000, 64)
    cov = tril @ tril.mT
    x = torch.randn(1000, 64)
    return lambda: lib.MultivariateNormal(loc, covariance_matrix=cov).log_prob(x)


def _call_lowrank_log_prob(lib: Any) -> Callable[[], Any]:
    loc, factor, diag = torch.randn(1000, 64), torch.randn(1000, 64, 4), torch.rand(1000, 64) + 0.5
    x = torch.randn(1000, 64)
    return lambda: lib.LowRankMultivariateNormal(loc, factor, diag).log_prob(x)


def _call_wishart_sample(lib: Any) -> Callable[[], Any]:
    scale = torch.eye(8) + 0.1
    return lambda: lib.Wishart(df=torch.tensor(20.0), covariance_matrix=scale).sample((1000,))


def _call_lkj_sample(lib: Any) -> Callable[[], Any]:
    return lambda: lib.LKJCholesky(8, torch.tensor(2.0)).sample((1000,))


CALLS: list[tuple[str, Callable[[Any], Callable[[], Any]]]] = [
    ("kl Normal-Normal (1000)", _call_kl_normal),
    ("kl Categorical-Categorical (1000x100)", _call_kl_categorical),
    ("kl MVN-MVN (1000, d=64)", _call_kl_mvn),
    ("MVN log_prob (1000, d=64)", _call_mvn_log_prob),
    ("LowRankMVN log_prob (1000, d=64, r=4)", _call_lowrank_log_prob),
    ("Wishart sample (1000, p=8)", _call_wishart_sample),
    ("LKJCholesky sample (1000, d=8)", _call_lkj_sample),
]


def lookup(lib: Any, dotted: str) -> Any:
    """``lib.a.b`` for ``dotted="a.b"``, importing submodules on the way; None if absent."""
    obj = lib
    for part in dotted.split("."):
        nxt = getattr(obj, part, None)
        if nxt is None and hasattr(obj, "__path__"):
            try:
                nxt = importlib.import_module(f"{obj.__name__}.{part}")
            except ImportError:
                nxt = None
        if nxt is None:
            return None
        obj = nxt
    return obj


def resolve(arg: Any, lib: Any) -> Any:
    """Build every ``Make`` inside ``arg`` (recursively) from ``lib``."""
    if isinstance(arg, Make):
        cls = lookup(lib, arg.name)
        if cls is None:
            raise Missing(arg.name)
        return cls(*resolve(arg.args, lib), **resolve(arg.kwargs, lib))
    if isinstance(arg, dict):
        return {k: resolve(v, lib) for k, v in arg.items()}
    if isinstance(arg, (list, tuple)):
        return type(arg)(resolve(v, lib) for v in arg)
    return arg


def tensors_in(arg: Any) -> list[torch.Tensor]:
    if isinstance(arg, torch.Tensor):
        return [arg]
    if isinstance(arg, Make):
        return tensors_in(arg.args) + tensors_in(arg.kwargs)
    if isinstance(arg, dict):
        arg = list(arg.values())
    if isinstance(arg, (list, tuple)):
        return [t for v in arg for t in tensors_in(v)]
    return []


# ----------------------------------------------------------------------------------------------
# Timing


@dataclass
class Settings:
    rounds: int
    target_ns: int
    warmup_ns: int
    clock: str = "wall"

    @property
    def now(self) -> Callable[[], int]:
        return time.perf_counter_ns if self.clock == "wall" else time.process_time_ns


def _no_sync() -> None:
    pass


# Waits for queued device work before a clock is read (``torch.cuda.synchronize`` under
# ``--device cuda``); CPU ops are synchronous.
SYNC: Callable[[], None] = _no_sync


def _estimate(fn: Callable[[], Any], warmup_ns: int, budget_ns: int) -> float:
    """Warm ``fn`` up, then return a rough per-call (wall) time in ns."""
    now = time.perf_counter_ns
    fn()
    t0 = now()
    while now() - t0 < warmup_ns:
        fn()
    calls, t0 = 0, now()
    while True:
        fn()
        SYNC()
        calls += 1
        elapsed = now() - t0
        if elapsed >= budget_ns or calls >= 10_000:
            return elapsed / calls


def measure(fns: dict[str, Callable[[], Any]], st: Settings) -> dict[str, list[float]]:
    """Per-call times (ns), one per round, of each callable, with interleaved rotating order."""
    loops = {}
    for key, fn in fns.items():
        per_call = _estimate(fn, st.warmup_ns, st.target_ns // 5)
        loops[key] = max(1, round(st.target_ns / per_call))
    keys, now = list(fns), st.now
    out: dict[str, list[float]] = {k: [] for k in keys}
    for r in range(st.rounds):
        shift = r % len(keys)
        for key in keys[shift:] + keys[:shift]:
            fn, n = fns[key], loops[key]
            t0 = now()
            for _ in range(n):
                fn()
            SYNC()
            out[key].append((now() - t0) / n)
    return out


# ----------------------------------------------------------------------------------------------
# Results


@dataclass
class Row:
    section: str
    name: str
    shape: list[int]
    validate: bool
    status: str = "ok"  # "ok", "missing: <name>" or "error: <what>"
    draw: str = ""
    torch_ns: float = math.nan
    cand_ns: float = math.nan
    clone_ns: float = math.nan
    samples: dict[str, list[float]] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.cand_ns / self.torch_ns

    def finish(self, samples: dict[str, list[float]]) -> None:
        self.samples = samples
        self.torch_ns = statistics.median(samples["torch"])
        self.cand_ns = statistics.median(samples["cand"])
        if "clone" in samples:
            self.clone_ns = statistics.median(samples["clone"])


def _error(exc: BaseException) -> str:
    msg = str(exc).splitlines()[0] if str(exc) else ""
    return f"error: {type(exc).__name__}: {msg}"[:70]


# ----------------------------------------------------------------------------------------------
# Sections


def _tiny_step(lib: Any, name: str, kwargs: dict[str, Any], validate: bool) -> tuple[Any, str]:
    cls = lookup(lib, name)
    if cls is None:
        raise Missing(name)
    kw = resolve(kwargs, lib)
    draw = "rsample" if cls(**kw, validate_args=validate).has_rsample else "sample"

    if draw == "rsample":

        def step() -> Any:
            d = cls(**kw, validate_args=validate)
            return d.log_prob(d.rsample())

    else:

        def step() -> Any:
            d = cls(**kw, validate_args=validate)
            return d.log_prob(d.sample())

    step()
    return step, draw


def run_tiny(
    libs: dict[str, Any],
    cases: list[tuple[str, Callable[..., Any]]],
    shape: tuple[int, ...],
    st: Settings,
    grad: bool,
) -> list[Row]:
    rows = []
    for name, build in cases:
        kwargs = build(shape)
        if grad:
            for t in tensors_in(kwargs):
                if t.is_floating_point():
                    t.requires_grad_()
        for validate in (False, True):
            row = Row("tiny", name, list(shape), validate)
            rows.append(row)
            steps, draws = {}, {}
            for key, lib in libs.items():
                try:
                    steps[key], draws[key] = _tiny_step(lib, name, kwargs, validate)
                except Missing as exc:
                    row.status = f"missing: {exc}" + (" (in torch!)" if key == "torch" else "")
                except Exception as exc:
                    row.status = _error(exc) + (" (torch)" if key == "torch" else "")
                if row.status != "ok":
                    break
            if row.status != "ok":
                continue
            row.draw = (
                draws["torch"] if draws["torch"] == draws["cand"] else "/".join(draws.values())
            )
            try:
                row.finish(measure(steps, st))
            except Exception as exc:
                row.status = _error(exc)
    return rows


def _big_call(lib: Any, name: str, kwargs: dict[str, Any], value: torch.Tensor, validate: bool):
    cls = lookup(lib, name)
    if cls is None:
        raise Missing(name)
    kw = resolve(kwargs, lib)

    def call() -> Any:
        return cls(**kw, validate_args=validate).log_prob(value)

    call()
    return call


def run_big(
    libs: dict[str, Any],
    cases: list[tuple[str, Callable[..., Any]]],
    n: int,
    st: Settings,
) -> list[Row]:
    rows = []
    for name, build in cases:
        kwargs, value = build(n)
        largest = max(tensors_in(kwargs) + [value], key=torch.Tensor.numel)
        for validate in (False, True):
            row = Row("big", name, list(value.shape), validate)
            rows.append(row)
            fns: dict[str, Callable[[], Any]] = {"clone": largest.clone}
            for key, lib in libs.items():
                try:
                    fns[key] = _big_call(lib, name, kwargs, value, validate)
                except Missing as exc:
                    row.status = f"missing: {exc}"
                except Exception as exc:
                    row.status = _error(exc) + (" (torch)" if key == "torch" else "")
                if row.status != "ok":
                    break
            if row.status != "ok":
                continue
            try:
                row.finish(measure(fns, st))
            except Exception as exc:
                row.status = _error(exc)
        del kwargs, value, largest
        gc.collect()
    return rows


def _transform_call(lib: Any, make: Make, x: torch.Tensor) -> Callable[[], Any]:
    t = resolve(make, lib)

    def call() -> Any:
        return t.log_abs_det_jacobian(x, t(x))

    call()
    return call


def run_transforms(
    libs: dict[str, Any],
    cases: list[tuple[str, Callable[[int], tuple[Make, torch.Tensor]]]],
    n: int,
    st: Settings,
) -> list[Row]:
    rows = []
    for name, build in cases:
        make, x = build(n)
        row = Row("transforms", name, list(x.shape), False)
        rows.append(row)
        fns: dict[str, Callable[[], Any]] = {"clone": x.clone} if n else {}
        for key, lib in libs.items():
            try:
                fns[key] = _transform_call(lib, make, x)
            except Missing as exc:
                row.status = f"missing: {exc}"
            except Exception as exc:
                row.status = _error(exc) + (" (torch)" if key == "torch" else "")
            if row.status != "ok":
                break
        if row.status == "ok":
            try:
                row.finish(measure(fns, st))
            except Exception as exc:
                row.status = _error(exc)
        del x
        gc.collect()
    return rows


def run_special(
    cand: Any, cases: list[tuple[str, Callable[[int], list[Any]]]], n: int, st: Settings
) -> list[Row]:
    rows = []
    for name, build in cases:
        args = build(n)
        row = Row("special", name, [n], False)
        rows.append(row)
        try:
            scipy_fn = getattr(importlib.import_module("scipy.special"), name)
        except ImportError as exc:
            row.status = _error(exc)
            continue
        fn = lookup(cand, "special." + name)
        if fn is None:
            row.status = f"missing: special.{name}"
            continue
        tensors = [torch.from_numpy(a) for a in args]
        fns = {
            "torch": lambda f=scipy_fn, v=args: f(*v),
            "cand": lambda f=fn, v=tensors: f(*v),
        }
        try:
            row.finish(measure(fns, st))
        except Exception as exc:
            row.status = _error(exc)
        del fns
        gc.collect()
    return rows


# ----------------------------------------------------------------------------------------------
# Printing


def run_calls(
    libs: dict[str, Any], cases: list[tuple[str, Callable[[Any], Callable[[], Any]]]], st: Settings
) -> list[Row]:
    rows = []
    for name, build in cases:
        row = Row("calls", name, [], False)
        rows.append(row)
        fns: dict[str, Callable[[], Any]] = {}
        for key, lib in libs.items():
            try:
                fn = build(lib)
                fn()
                fns[key] = fn
            except Exception as exc:
                row.status = _error(exc) + (" (torch)" if key == "torch" else "")
                break
        if row.status == "ok":
            row.finish(measure(fns, st))
        gc.collect()
    return rows


def print_calls(rows: list[Row], label: str) -> None:
    print("\n== Calls at realistic sizes (construction included) ==")
    print(f"{'call':40} {'torch ms':>10} {label + ' ms':>13} {'ratio':>6}")
    for r in rows:
        if r.status != "ok":
            print(f"{r.name:40} ({r.status})")
            continue
        print(f"{r.name:40} {r.torch_ns / 1e6:10.3f} {r.cand_ns / 1e6:13.3f} {r.ratio:6.2f}")
    ok = [r.ratio for r in rows if r.status == "ok"]
    print(f"geomean {label}/torch: {geomean(ok):.2f} over {len(ok)}")


def geomean(xs: list[float]) -> float:
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else math.nan


def _summary(rows: list[Row], label: str) -> str:
    parts = []
    for validate in (False, True):
        ok = [r.ratio for r in rows if r.validate == validate and r.status == "ok"]
        parts.append(f"validate {'on' if validate else 'off'} {geomean(ok):.2f} over {len(ok)}")
    missing = len({r.name for r in rows if r.status.startswith("missing")})
    errors = len({r.name for r in rows if r.status.startswith("error")})
    tail = (
        f"; skipped: {missing} missing in {label}, {errors} with errors" if missing + errors else ""
    )
    return f"geomean {label}/torch: " + ", ".join(parts) + tail


def _is_missing(r: Row) -> bool:
    return r.status.startswith("missing") and "torch" not in r.status


def _print_missing(names: list[str], label: str) -> None:
    if names:
        print(f"not in {label} yet ({len(names)}): {', '.join(names)}")


def print_tiny(rows: list[Row], shape: tuple[int, ...], label: str) -> None:
    print(f"\n== Tiny: construct + rsample/sample + log_prob, batch shape {shape} ==")
    print(f"{'':43}{'validate_args=False':^28}   {'validate_args=True':^28}".rstrip())
    cols = f"{'torch µs':>9} {label + ' µs':>12} {'ratio':>5}"
    print(f"{'distribution':33} {'draw':8} {cols}   {cols}")
    by_name: dict[str, dict[bool, Row]] = {}
    for r in rows:
        by_name.setdefault(r.name, {})[r.validate] = r
    missing = [n for n, p in by_name.items() if all(_is_missing(r) for r in p.values())]
    for name, pair in by_name.items():
        if name in missing:
            continue
        cells = []
        for validate in (False, True):
            r = pair[validate]
            if r.status != "ok":
                cells.append(f"({r.status})")
                continue
            cells.append(f"{r.torch_ns / 1e3:9.2f} {r.cand_ns / 1e3:12.2f} {r.ratio:5.2f}")
        draw = pair[False].draw or pair[True].draw
        if cells[0] == cells[1] and cells[0].startswith("("):
            cells = [cells[0]]
        print(f"{name:33} {draw:8} " + "   ".join(cells))
    _print_missing(missing, label)
    print(_summary(rows, label))


def print_big(rows: list[Row], label: str, n: int) -> None:
    print(f"\n== Big: construct + log_prob, ~{n:,} elements, scalar parameters; floor = clone() ==")
    print(
        f"{'distribution':14} {'validate':8} {'clone ms':>9} {'torch ms':>9} {label + ' ms':>12} "
        f"{'torch/clone':>11} {label + '/clone':>15} {'ratio':>6}"
    )
    missing = sorted({r.name for r in rows if _is_missing(r)}, key=[r.name for r in rows].index)
    for r in rows:
        if r.name in missing:
            continue
        head = f"{r.name:14} {'on' if r.validate else 'off':8}"
        if r.status != "ok":
            print(f"{head} ({r.status})")
            continue
        print(
            f"{head} {r.clone_ns / 1e6:9.3f} {r.torch_ns / 1e6:9.3f} {r.cand_ns / 1e6:12.3f} "
            f"{r.torch_ns / r.clone_ns:11.2f} {r.cand_ns / r.clone_ns:15.2f} {r.ratio:6.2f}"
        )
    _print_missing(missing, label)
    print(_summary(rows, label))
    print(_throughput_summary(rows, label))


def _throughput_summary(rows: list[Row], label: str) -> str:
    """The issue-9 line: the worst elementwise ``log_prob`` time in clones (validation off)."""
    ok = [
        r for r in rows if r.status == "ok" and not r.validate and r.name not in BIG_NOT_ELEMENTWISE
    ]
    if not ok:
        return "throughput-vs-copy: no elementwise family measured"
    parts = []
    for key in ("cand_ns", "torch_ns"):
        per = {r.name: getattr(r, key) / r.clone_ns for r in ok}
        worst = max(per, key=per.__getitem__)
        within = sum(v <= THROUGHPUT_LIMIT for v in per.values())
        parts.append(
            f"worst {worst} {per[worst]:.1f}x clone; {within} of {len(per)} elementwise "
            f"families <= {THROUGHPUT_LIMIT:g}x"
        )
    return f"throughput-vs-copy: {parts[0]} (validate off; torch: {parts[1]})"


def print_transforms(rows: list[Row], label: str, n: int) -> None:
    size = f"{n:,} elements" if n else "a scalar"
    print(f"\n== Transforms: y = t(x); t.log_abs_det_jacobian(x, y), x {size} ==")
    print(f"{'transform':26} {'clone µs':>9} {'torch µs':>10} {label + ' µs':>12} {'ratio':>6}")
    for r in rows:
        if r.status != "ok":
            print(f"{r.name:26} ({r.status})")
            continue
        clone = f"{r.clone_ns / 1e3:9.1f}" if n else f"{'':9}"
        print(
            f"{r.name:26} {clone} {r.torch_ns / 1e3:10.2f} {r.cand_ns / 1e3:12.2f} {r.ratio:6.2f}"
        )
    ok = [r.ratio for r in rows if r.status == "ok"]
    print(f"geomean {label}/torch: {geomean(ok):.2f} over {len(ok)}")


def print_special(rows: list[Row], label: str, n: int) -> None:
    print(f"\n== Special: {label}.special vs SciPy, {n:,} elements, one thread each ==")
    print(f"{'function':14} {'scipy ms':>10} {label + ' ms':>13} {'ratio':>6}")
    for r in rows:
        if r.status != "ok":
            print(f"{r.name:14} ({r.status})")
            continue
        print(f"{r.name:14} {r.torch_ns / 1e6:10.1f} {r.cand_ns / 1e6:13.1f} {r.ratio:6.2f}")
    ok = [r.ratio for r in rows if r.status == "ok"]
    print(f"geomean {label}/scipy: {geomean(ok):.2f} over {len(ok)}")


# ----------------------------------------------------------------------------------------------
# Command line


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="torchprob vs torch.distributions, as ratios (candidate/torch; < 1 = faster)."
    )
    p.add_argument("--quick", action="store_true", help="few short rounds, small big tensors")
    p.add_argument("--only", default="", help="comma-separated distribution names")
    p.add_argument(
        "--section",
        choices=["all", "tiny", "big", "transforms", "special", "calls"],
        default="all",
    )
    p.add_argument(
        "--batch",
        type=int,
        action="append",
        default=[],
        metavar="N",
        help="also run the tiny section at batch shape (N,); repeatable",
    )
    p.add_argument("--big-n", type=int, default=None, help="elements in the big value tensor")
    p.add_argument("--rounds", type=int, default=None, help="interleaved rounds per measurement")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="big section: torch.set_num_threads (default: as is)",
    )
    p.add_argument(
        "--clock",
        choices=["auto", "wall", "cpu"],
        default="auto",
        help="wall: time.perf_counter_ns; cpu: time.process_time_ns, immune to other processes "
        "taking the CPU (with several torch threads it sums their CPU time); auto: cpu for the "
        "tiny section (one thread), and for the big one only with --threads 1",
    )
    p.add_argument("--grad", action="store_true", help="tiny: float parameters require grad")
    p.add_argument(
        "--device",
        default="cpu",
        help="where tensors live, e.g. cuda (wall clock, synchronized after each timed block)",
    )
    p.add_argument(
        "--candidate",
        default="torchprob",
        help="module to compare against torch.distributions (torch.distributions: a null run)",
    )
    p.add_argument("--json", metavar="PATH", help="also write all results (and raw rounds) here")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.device != "cpu":
        global SYNC
        torch.set_default_device(args.device)
        SYNC = torch.cuda.synchronize if args.device.startswith("cuda") else _no_sync
        if args.clock == "auto":
            args.clock = "wall"  # device time is not this process's CPU time
    big_threads = args.threads or torch.get_num_threads()
    cand = importlib.import_module(args.candidate)
    libs = {"torch": importlib.import_module(REFERENCE), "cand": cand}
    label = "torchprob" if args.candidate == "torchprob" else "candidate"

    tiny, big, trans, spec = list(TINY), list(BIG), list(TRANSFORMS), list(SPECIAL)
    if args.only:
        wanted = {w.strip().lower() for w in args.only.split(",") if w.strip()}
        tiny = [c for c in tiny if c[0].lower() in wanted]
        big = [c for c in big if c[0].lower() in wanted]
        trans = [c for c in trans if c[0].lower() in wanted]
        spec = [c for c in spec if c[0].lower() in wanted]
        unknown = wanted - {c[0].lower() for c in tiny + big + trans + spec}
        if unknown:
            print(f"--only: not in the tables: {', '.join(sorted(unknown))}", file=sys.stderr)
        if not tiny and not big and not trans and not spec:
            return 2
    tiny_clock = "cpu" if args.clock == "auto" else args.clock
    big_clock = ("cpu" if big_threads == 1 else "wall") if args.clock == "auto" else args.clock
    if args.quick:
        tiny_st = Settings(args.rounds or 3, 500_000, 100_000, tiny_clock)
        big_st = Settings(args.rounds or 3, 500_000, 0, big_clock)
        big_n = args.big_n or 20_000  # below torch's grain size: no threads
        trans_n = special_n = 20_000
        special_st = Settings(args.rounds or 3, 500_000, 0, "cpu")
    else:
        tiny_st = Settings(args.rounds or 7, 25_000_000, 20_000_000, tiny_clock)
        big_st = Settings(args.rounds or 5, 50_000_000, 0, big_clock)
        big_n = args.big_n or 10_000_000
        trans_n = TRANSFORMS_N
        special_n = SPECIAL_N
        special_st = Settings(args.rounds or 5, 50_000_000, 0, "cpu")

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    print(
        f"torch {torch.__version__}, candidate {args.candidate} "
        f"{getattr(cand, '__version__', '')}, python {platform.python_version()}, "
        f"{os.cpu_count()} cpus, load average {load:.2f}; torch threads: 1 (tiny), "
        f"{big_threads} (big)"
    )
    print(
        f"median per call over {tiny_st.rounds} (tiny) / {big_st.rounds} (big) interleaved "
        f"rounds, clock: {tiny_clock} (tiny) / {big_clock} (big); "
        f"ratio = {label}/torch, < 1 means {label} is faster"
    )
    if "wall" in (tiny_clock, big_clock) and load > 0.5 * (os.cpu_count() or 1):
        print("note: the machine is busy, so wall times are noisy (try --threads 1: cpu clock)")
    t_start = time.perf_counter()
    rows: list[Row] = []
    threads_before = torch.get_num_threads()
    gc.collect()
    gc.freeze()
    try:
        with warnings.catch_warnings(), torch.random.fork_rng(devices=[]):
            warnings.simplefilter("ignore")
            torch.manual_seed(0)
            if args.section in ("all", "tiny") and tiny:
                torch.set_num_threads(1)
                for shape in [()] + [(b,) for b in args.batch]:
                    part = run_tiny(libs, tiny, shape, tiny_st, args.grad)
                    print_tiny(part, shape, label)
                    rows += part
            if args.section in ("all", "big") and big:
                torch.set_num_threads(big_threads)
                part = run_big(libs, big, big_n, big_st)
                print_big(part, label, big_n)
                rows += part
            if args.section == "transforms" and trans:
                for n, st, threads in ((0, tiny_st, 1), (trans_n, big_st, big_threads)):
                    torch.set_num_threads(threads)
                    part = run_transforms(libs, trans, n, st)
                    print_transforms(part, label, n)
                    rows += part
            if args.section == "calls":
                torch.set_num_threads(big_threads)
                part = run_calls(libs, CALLS, big_st)
                print_calls(part, label)
                rows += part
            if args.section == "special" and spec:
                torch.set_num_threads(1)
                part = run_special(cand, spec, special_n, special_st)
                print_special(part, label, special_n)
                rows += part
    finally:
        torch.set_num_threads(threads_before)
        gc.unfreeze()
    elapsed = time.perf_counter() - t_start
    print(f"\n({elapsed:.1f} s)")

    if args.json:
        meta = {
            "torch": torch.__version__,
            "candidate": args.candidate,
            "candidate_version": getattr(cand, "__version__", None),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "threads_tiny": 1,
            "threads_big": big_threads,
            "cpus": os.cpu_count(),
            "load_average": load if math.isfinite(load) else None,
            "quick": args.quick,
            "clock": args.clock,
            "big_n": big_n,
            "tiny_settings": asdict(tiny_st),
            "big_settings": asdict(big_st),
            "seconds": elapsed,
        }
        out = []
        for r in rows:
            d = asdict(r)
            d["ratio"] = r.ratio if r.status == "ok" else None
            for k in ("torch_ns", "cand_ns", "clone_ns"):
                if math.isnan(d[k]):
                    d[k] = None
            out.append(d)
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "rows": out}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
