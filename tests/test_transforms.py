"""torchprob.transforms: round trips, log-det-Jacobians against autograd, shapes, caching,
equality, the ComposeTransform intermediate reuse, parity with torch.distributions.transforms and
the stability of the elementwise log-det-Jacobians."""

from __future__ import annotations

import copy
import gc
import math
import pickle
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
import torch
import torch.distributions as td
import torch.distributions.transforms as TT
from torch.autograd.functional import jacobian

import torchprob.transforms as PT
from torchprob import constraints
from torchprob.continuous.normal import Normal
from torchprob.utils import tril_matrix_to_vec

F64 = torch.float64

# The distribution namespace each library's transforms are built with.
LIBS = {
    "torch": (TT, td),
    "torchprob": (PT, SimpleNamespace(Normal=Normal)),
}


def t64(x: Any) -> torch.Tensor:
    return torch.as_tensor(x, dtype=F64)


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def flat_event(y: torch.Tensor, t: Any) -> torch.Tensor:
    """``y`` with its codomain event dims flattened into one."""
    n = t.codomain.event_dim
    return y.reshape(y.shape[: y.dim() - n] + (-1,))


@dataclass
class Case:
    """One transform: ``build(T, D)`` makes it from a transforms module ``T`` and a distribution
    namespace ``D``; ``x`` is a point of its domain; ``select`` maps ``y`` to the coordinates
    the log-det-Jacobian is taken against (the event, flattened, by default)."""

    id: str
    build: Callable[[Any, Any], Any]
    x: torch.Tensor
    select: Callable[[torch.Tensor, Any], torch.Tensor] = flat_event
    parity: str | None = None  # reason to skip parity with torch, if any

    def make(self, lib: str = "torchprob") -> Any:
        return self.build(*LIBS[lib])


LOC3, SCALE23 = randn(3, seed=1), randn(2, 3, seed=2).exp()
X23 = randn(2, 3)

CASES = [
    Case("exp", lambda T, D: T.ExpTransform(), X23),
    Case("sigmoid", lambda T, D: T.SigmoidTransform(), 3 * X23),
    Case("tanh", lambda T, D: T.TanhTransform(), 2 * X23),
    Case("softplus", lambda T, D: T.SoftplusTransform(), 3 * X23),
    Case("affine-numbers", lambda T, D: T.AffineTransform(1.5, -2.0), X23),
    Case("affine-batched", lambda T, D: T.AffineTransform(LOC3, SCALE23), X23),
    Case("affine-event1", lambda T, D: T.AffineTransform(LOC3, -SCALE23, event_dim=1), X23),
    Case(
        "affine-scalar-tensor-event1",
        lambda T, D: T.AffineTransform(t64(0.5), t64(3.0), event_dim=1),
        X23,
        parity="torch sums log|scale| once instead of once per event entry",
    ),
    Case("affine-numbers-event2", lambda T, D: T.AffineTransform(0.5, 3.0, event_dim=2), X23),
    Case("power", lambda T, D: T.PowerTransform(t64(2.5)), X23.exp()),
    Case("power-negative-batched", lambda T, D: T.PowerTransform(-SCALE23), X23.exp()),
    Case(
        "compose",
        lambda T, D: T.ComposeTransform([T.AffineTransform(0.3, 1.7), T.ExpTransform()]),
        X23,
    ),
    Case(
        "compose-event",
        lambda T, D: T.ComposeTransform(
            [
                T.SigmoidTransform(),
                T.ExpTransform().inv,
                T.AffineTransform(LOC3, 2.0),
                T.StickBreakingTransform(),
            ]
        ),
        X23,
        select=lambda y, t: y[..., :-1],
    ),
    Case("compose-empty", lambda T, D: T.identity_transform, X23),
    Case(
        "compose-inverse",
        lambda T, D: T.ComposeTransform([T.AffineTransform(0.3, 1.7), T.ExpTransform()]).inv,
        X23.exp(),
    ),
    Case("independent", lambda T, D: T.IndependentTransform(T.SigmoidTransform(), 1), X23),
    Case("reshape", lambda T, D: T.ReshapeTransform((2, 3), (3, 2)), randn(4, 2, 3)),
    Case(
        "stick-breaking",
        lambda T, D: T.StickBreakingTransform(),
        2 * X23,
        select=lambda y, t: y[..., :-1],
    ),
    Case(
        "corr-cholesky",
        lambda T, D: T.CorrCholeskyTransform(),
        randn(2, 6),
        select=lambda y, t: tril_matrix_to_vec(y, diag=-1),
    ),
    Case(
        "cat-elementwise",
        lambda T, D: T.CatTransform(
            [T.ExpTransform(), T.identity_transform, T.SigmoidTransform()],
            dim=-1,
            lengths=[1, 2, 1],
        ),
        randn(2, 4),
    ),
    Case(
        "cat-batch-dim",
        lambda T, D: T.CatTransform([T.ExpTransform(), T.TanhTransform()], dim=0, lengths=[1, 2]),
        randn(3, 2),
    ),
    Case(
        "cat-event",
        lambda T, D: T.CatTransform(
            [T.IndependentTransform(T.ExpTransform(), 1), T.AffineTransform(0.0, 2.0, event_dim=1)],
            dim=-1,
            lengths=[2, 2],
        ),
        randn(3, 4),
    ),
    Case(
        "stack",
        lambda T, D: T.StackTransform(
            [T.ExpTransform(), T.identity_transform, T.TanhTransform()], dim=0
        ),
        X23.mT,
    ),
    Case(
        "cdf-normal",
        lambda T, D: T.CumulativeDistributionTransform(D.Normal(t64(0.5), t64(2.0))),
        X23,
    ),
    Case("sigmoid-inverse", lambda T, D: T.SigmoidTransform().inv, torch.sigmoid(X23)),
    Case("softmax", lambda T, D: T.SoftmaxTransform(), X23),
    Case("abs", lambda T, D: T.AbsTransform(), X23),
    Case("lower-cholesky", lambda T, D: T.LowerCholeskyTransform(), randn(2, 3, 3)),
    Case("positive-definite", lambda T, D: T.PositiveDefiniteTransform(), randn(2, 3, 3)),
]
BIJECTIVE = [c for c in CASES if c.make().bijective]
NOT_BIJECTIVE = [c for c in CASES if not c.make().bijective]


def ids(cases: list[Case]) -> list[str]:
    return [c.id for c in cases]


def test_every_torch_transform_has_a_case():
    """Every transform torch exports is exported and exercised here."""
    assert set(PT.__all__) == set(TT.__all__)
    covered = set()
    for case in CASES:
        t = case.make()
        stack = [t]
        while stack:
            t = stack.pop()
            covered.add(type(t).__name__)
            stack += getattr(t, "parts", []) + getattr(t, "transforms", [])
            if isinstance(t, PT._InverseTransform):
                stack.append(t.inv)
    exported = {n for n in PT.__all__ if n not in ("Transform", "identity_transform")}
    assert exported <= covered


# ----------------------------------------------------------------------------------------------
# Round trips, codomain, shapes
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", BIJECTIVE, ids=ids(BIJECTIVE))
def test_round_trip(case):
    t = case.make()
    y = t(case.x)
    torch.testing.assert_close(t.inv(y), case.x, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(t(t.inv(y)), y, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", NOT_BIJECTIVE, ids=ids(NOT_BIJECTIVE))
def test_pseudo_inverse(case):
    t = case.make()
    y = t(case.x)
    torch.testing.assert_close(t(t.inv(y)), y, rtol=1e-10, atol=1e-12)
    x1 = t.inv(y)
    torch.testing.assert_close(t.inv(t(x1)), x1, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_lands_in_codomain_and_shapes(case):
    t = case.make()
    assert bool(t.domain.check(case.x).all())
    y = t(case.x)
    assert bool(t.codomain.check(y).all())
    assert tuple(t.forward_shape(case.x.shape)) == y.shape
    assert tuple(t.inverse_shape(y.shape)) == t.inv(y).shape


# ----------------------------------------------------------------------------------------------
# Log-det-Jacobian against autograd
# ----------------------------------------------------------------------------------------------


def autograd_log_det(t: Any, x: torch.Tensor, select: Callable) -> torch.Tensor:
    """``log|det J|`` per event of ``x``, from the full Jacobian of ``select(t(x))``."""
    n_in = t.domain.event_dim
    batch = x.shape[: x.dim() - n_in]
    num_b = math.prod(batch)
    y_sel = select(t(x), t)
    jac = jacobian(lambda v: select(t(v), t), x)
    jac = jac.reshape(num_b, -1, num_b, x[(0,) * len(batch)].numel())
    blocks = torch.stack([jac[b, :, b, :] for b in range(num_b)])
    # Events do not interact: every off-diagonal block is zero.
    off = jac.clone()
    for b in range(num_b):
        off[b, :, b, :] = 0
    assert off.abs().max() == 0
    assert blocks.shape[-1] == blocks.shape[-2] == y_sel.shape[-1]
    return torch.linalg.slogdet(blocks).logabsdet.reshape(batch)


@pytest.mark.parametrize("case", BIJECTIVE, ids=ids(BIJECTIVE))
def test_log_det_jacobian_matches_autograd(case):
    t = case.make()
    y = t(case.x)
    ldj = t.log_abs_det_jacobian(case.x, y)
    expected = autograd_log_det(t, case.x, case.select)
    assert ldj.shape == expected.shape
    torch.testing.assert_close(ldj, expected, rtol=1e-9, atol=1e-10)


def test_inverse_log_det_is_negated():
    t = PT.ComposeTransform([PT.AffineTransform(0.3, 1.7), PT.SigmoidTransform()])
    x = randn(5)
    y = t(x)
    torch.testing.assert_close(t.inv.log_abs_det_jacobian(y, x), -t.log_abs_det_jacobian(x, y))


# ----------------------------------------------------------------------------------------------
# Parity with torch.distributions.transforms
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_parity_with_torch(case):
    if case.parity:
        pytest.skip(case.parity)
    ours, theirs = case.make("torchprob"), case.make("torch")
    assert ours.bijective == theirs.bijective
    assert ours.domain.event_dim == theirs.domain.event_dim
    assert ours.codomain.event_dim == theirs.codomain.event_dim
    assert type(ours.codomain).__name__ == type(theirs.codomain).__name__
    y, y_ref = ours(case.x), theirs(case.x)
    torch.testing.assert_close(y, y_ref, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(ours.inv(y_ref), theirs.inv(y_ref), rtol=1e-10, atol=1e-12)
    if ours.bijective:
        ldj = ours.log_abs_det_jacobian(case.x, y_ref)
        ldj_ref = theirs.log_abs_det_jacobian(case.x, y_ref)
        assert ldj.shape == ldj_ref.shape
        torch.testing.assert_close(ldj, ldj_ref, rtol=1e-10, atol=1e-12)
    try:
        sign_ref = theirs.sign
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            ours.sign  # noqa: B018
    else:
        assert torch.equal(torch.as_tensor(ours.sign), torch.as_tensor(sign_ref))


def test_affine_event_dim_with_scalar_tensor_scale_sums_every_entry():
    # torch returns log|scale| once; the Jacobian of x -> 3x on R^3 has log-det 3 log 3.
    t = PT.AffineTransform(t64(0.0), t64(3.0), event_dim=1)
    x = randn(2, 3)
    torch.testing.assert_close(
        t.log_abs_det_jacobian(x, t(x)), torch.full((2,), 3 * math.log(3), dtype=F64)
    )


# ----------------------------------------------------------------------------------------------
# Numerical stability
# ----------------------------------------------------------------------------------------------

EXTREME = [-100.0, -40.0, -20.0, -1e-3, 0.0, 1e-3, 20.0, 40.0, 100.0]


def reference(fn: Callable[[float], float]) -> torch.Tensor:
    return t64([fn(v) for v in EXTREME])


def _log_sech2(v: float) -> float:  # log(1 - tanh(v)^2), exact in float64 for these v
    a = abs(v)
    return 2 * (math.log(2) - a - math.log1p(math.exp(-2 * a)))


def _log_sigmoid_deriv(v: float) -> float:  # log(sigmoid(v) (1 - sigmoid(v)))
    a = abs(v)
    return -a - 2 * math.log1p(math.exp(-a))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "transform, ref",
    [(PT.TanhTransform(), _log_sech2), (PT.SigmoidTransform(), _log_sigmoid_deriv)],
    ids=["tanh", "sigmoid"],
)
def test_elementwise_log_det_finite_and_accurate(transform, ref, dtype):
    x = torch.tensor(EXTREME, dtype=dtype)
    ldj = transform.log_abs_det_jacobian(x, transform(x))
    assert torch.isfinite(ldj).all()
    tol = 1e-6 if dtype == torch.float32 else 1e-14
    torch.testing.assert_close(ldj.double(), reference(ref), rtol=tol, atol=tol)
    # the gradient is finite as well
    x.requires_grad_()
    (grad,) = torch.autograd.grad(transform.log_abs_det_jacobian(x, None).sum(), x)
    assert torch.isfinite(grad).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_saturated_inverses_are_clamped_to_finite(dtype):
    one = torch.tensor([-1.0, 1.0], dtype=dtype)
    x = PT.TanhTransform().inv(one)
    assert torch.isfinite(x).all() and (x.sign() == one).all()
    # only the endpoints move: every y strictly inside inverts exactly
    inside = torch.nextafter(one, torch.zeros_like(one))
    torch.testing.assert_close(PT.TanhTransform().inv(inside), torch.atanh(inside))
    u = torch.tensor([0.0, 1.0], dtype=dtype)
    assert torch.isfinite(PT.SigmoidTransform().inv(u)).all()
    y = PT.SigmoidTransform()(torch.tensor([-200.0, 200.0], dtype=dtype))
    assert (y > 0).all() and (y < 1).all()


def test_power_log_det_where_y_overflows():
    t = PT.PowerTransform(t64(3.0))
    x = t64([1e120])
    assert torch.isinf(t(x)).all()
    torch.testing.assert_close(
        t.log_abs_det_jacobian(x, t(x)), t64([math.log(3) + 2 * 120 * math.log(10)])
    )


def test_stick_breaking_keeps_tiny_entries_accurate():
    # y_0 = sigmoid(-60 - log 2) is about 4.4e-27: torch's 1 - z cancellation loses nothing here,
    # but the last entry, prod(1 - z), is computed in log space and the sum is one.
    t = PT.StickBreakingTransform()
    x = t64([-60.0, 60.0])
    y = t(x)
    z0 = 1 / (1 + math.exp(60 + math.log(2)))
    torch.testing.assert_close(y[0], t64(z0), rtol=1e-14, atol=0)
    assert abs(y.sum().item() - 1) < 1e-15
    torch.testing.assert_close(t.inv(y), x, rtol=1e-9, atol=0)


# ----------------------------------------------------------------------------------------------
# Caching, equality, inverse, pickling
# ----------------------------------------------------------------------------------------------


def test_cache_size_one_returns_the_cached_values():
    t = PT.ExpTransform(cache_size=1)
    x = randn(3)
    y = t(x)
    assert t.inv(y) is x
    assert t(x) is y
    y2 = t64([1.0, 2.0])
    x2 = t.inv(y2)
    assert t(x2) is y2
    uncached = PT.ExpTransform()
    assert uncached.inv(uncached(x)) is not x


def test_with_cache():
    t = PT.AffineTransform(t64(1.0), t64(2.0))
    cached = t.with_cache(1)
    assert cached is not t and cached._cache_size == 1 and cached == t
    assert cached.with_cache(1) is cached
    assert t.with_cache(0) is t
    compose = PT.ComposeTransform([PT.ExpTransform(), t]).with_cache(1)
    assert all(p._cache_size == 1 for p in compose.parts)
    inv = PT.ExpTransform().inv.with_cache(1)
    assert isinstance(inv, PT._InverseTransform) and inv._cache_size == 1
    with pytest.raises(ValueError, match="cache_size"):
        PT.ExpTransform(cache_size=2)

    class Custom(PT.Transform):
        def __init__(self, k: int) -> None:
            super().__init__()
            self.k = k

    with pytest.raises(NotImplementedError):
        Custom(1).with_cache(1)


def test_equality():
    assert PT.ExpTransform() == PT.ExpTransform()
    assert PT.ExpTransform() != PT.SigmoidTransform()
    assert PT.AffineTransform(1.0, 2.0) == PT.AffineTransform(1.0, 2.0)
    assert PT.AffineTransform(1.0, 2.0) != PT.AffineTransform(1.0, 3.0)
    assert PT.AffineTransform(t64([1.0, 2.0]), 2.0) == PT.AffineTransform(t64([1.0, 2.0]), 2.0)
    assert PT.AffineTransform(t64([1.0, 2.0]), 2.0) != PT.AffineTransform(t64([1.0, 2.0, 3.0]), 2.0)
    assert PT.PowerTransform(2.0) == PT.PowerTransform(2.0) != PT.PowerTransform(3.0)
    a = PT.ComposeTransform([PT.ExpTransform(), PT.AffineTransform(0.0, 2.0)])
    b = PT.ComposeTransform([PT.ExpTransform(), PT.AffineTransform(0.0, 2.0)])
    assert a == b and a.inv == b.inv and a != a.inv
    assert PT.ExpTransform().inv == PT.ExpTransform().inv
    assert PT.ReshapeTransform((2,), (2, 1)) == PT.ReshapeTransform((2,), (2, 1))
    custom = PT.Transform()
    assert custom == custom and custom != PT.Transform()


def test_inverse_is_kept_and_inverts_back():
    t = PT.SigmoidTransform()
    assert t.inv is t.inv and t.inv.inv is t
    assert t.inv.domain is t.codomain and t.inv.codomain is t.domain
    assert t.inv.bijective and t.inv.sign == 1
    c = PT.ComposeTransform([PT.ExpTransform(), PT.SigmoidTransform()])
    assert c.inv.inv is c and isinstance(c.inv, PT.ComposeTransform)
    assert repr(t.inv) == "_InverseTransform(SigmoidTransform())"


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_pickle_and_copy(case):
    t = case.make()
    y = t(case.x)
    t.inv  # noqa: B018  (build the inverse: it is not pickled)
    for clone in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t)):
        torch.testing.assert_close(clone(case.x), y)
        assert clone.__dict__.get("_memo") is None
        assert clone.inv.inv is clone


def test_event_dims_and_errors():
    assert PT.AffineTransform(0.0, 1.0, event_dim=2).event_dim == 2
    assert PT.ExpTransform().event_dim == 0
    with pytest.raises(ValueError, match="codomain.event_dim"):
        PT.CorrCholeskyTransform().event_dim  # noqa: B018
    with pytest.raises(ValueError, match="elements"):
        PT.ReshapeTransform((2, 3), (5,))
    with pytest.raises(ValueError, match="Shape mismatch"):
        PT.ReshapeTransform((2, 3), (6,)).forward_shape((4, 3, 2))
    with pytest.raises(ValueError, match="lower-diagonal"):
        PT.CorrCholeskyTransform().forward_shape((4,))
    with pytest.raises(ValueError, match="lengths"):
        PT.CatTransform([PT.ExpTransform()], lengths=[1, 2])
    with pytest.raises(ValueError, match="Transform"):
        PT.StackTransform([PT.ExpTransform(), "exp"])
    with pytest.raises(ValueError, match="must equal"):
        PT.CatTransform([PT.ExpTransform(), PT.ExpTransform()], dim=0)(torch.zeros(3))
    with pytest.raises(ValueError, match="out of range"):
        PT.StackTransform([PT.ExpTransform()], dim=2)(torch.zeros(1))
    with pytest.raises(NotImplementedError):
        PT.AbsTransform().log_abs_det_jacobian(torch.zeros(1), torch.zeros(1))
    with pytest.raises(NotImplementedError):
        PT.SoftmaxTransform().sign  # noqa: B018


def test_compose_domain_codomain_event_dims():
    t = PT.ComposeTransform(
        [PT.ExpTransform(), PT.StickBreakingTransform(), PT.AffineTransform(0.0, 2.0)]
    )
    assert t.domain.event_dim == 1 and t.codomain.event_dim == 1
    assert isinstance(t.domain, constraints._IndependentConstraint)
    assert isinstance(t.codomain, constraints._IndependentConstraint)
    r = PT.ComposeTransform([PT.CorrCholeskyTransform(), PT.ExpTransform()])
    assert r.domain.event_dim == 1 and r.codomain.event_dim == 2
    assert PT.identity_transform.domain is constraints.real
    assert PT.identity_transform.sign == 1 and PT.identity_transform.bijective


def test_to_moves_tensor_parameters():
    t = PT.ComposeTransform(
        [PT.AffineTransform(t64(1.0), t64(2.0)), PT.PowerTransform(t64(2.0)), PT.ExpTransform()]
    )
    moved = t._to(dtype=torch.float32)
    assert (
        moved.parts[0].loc.dtype == torch.float32 and moved.parts[1].exponent.dtype == torch.float32
    )
    assert moved.parts[2] is t.parts[2]
    assert PT.ExpTransform()._to(dtype=torch.float32).__class__ is PT.ExpTransform

    class HoldsTensor(PT.Transform):
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.ones(2)

    with pytest.raises(NotImplementedError, match="'w'"):
        HoldsTensor()._to(dtype=torch.float32)


# ----------------------------------------------------------------------------------------------
# ComposeTransform: reuse of the intermediates between the call and the log-det-Jacobian
# ----------------------------------------------------------------------------------------------


class Counting(PT.Transform):
    """exp, counting its forward calls."""

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = 1

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def _call(self, x):
        self.calls += 1
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


def _chain():
    counting = Counting()
    return counting, PT.ComposeTransform([counting, PT.AffineTransform(1.0, 2.0)])


def test_compose_reuses_intermediates_once():
    counting, t = _chain()
    x = randn(4)
    y = t(x)
    ldj = t.log_abs_det_jacobian(x, y)
    assert counting.calls == 1
    torch.testing.assert_close(ldj, x + math.log(2))
    t.log_abs_det_jacobian(x, y)  # the memo was used up: recomputed, same value
    assert counting.calls == 2
    # the inverse call leaves its intermediates for the forward log-det-Jacobian
    x2 = t.inv(y)
    t.log_abs_det_jacobian(x2, y)
    assert counting.calls == 2


def test_compose_memo_ignores_in_place_changes_and_other_tensors():
    counting, t = _chain()
    x = randn(4)
    y = t(x)
    x.add_(1.0)  # x changed in place: recompute
    torch.testing.assert_close(t.log_abs_det_jacobian(x, y), x + math.log(2))
    y = t(x)
    t.log_abs_det_jacobian(x.clone(), y)  # another tensor: recompute
    assert counting.calls == 4


def test_compose_memo_recomputes_with_a_graph_when_grad_is_needed():
    _, t = _chain()
    x = randn(3).requires_grad_()
    with torch.no_grad():
        y = t(x)
    ldj = t.log_abs_det_jacobian(x, y)
    assert ldj.requires_grad
    (grad,) = torch.autograd.grad(ldj.sum(), x)
    torch.testing.assert_close(grad, torch.ones(3, dtype=F64))


def test_compose_memo_releases_intermediates():
    _, t = _chain()
    x = randn(4)
    y = t(x)
    mid = weakref.ref(t._memo[3][0])
    del y
    gc.collect()
    assert t._memo is None and mid() is None
    y = t(x)
    mid = weakref.ref(t._memo[3][0])
    t.log_abs_det_jacobian(x, y)
    assert t._memo is None and mid() is None


def test_compose_without_version_counter_still_works():
    _, t = _chain()
    with torch.inference_mode():
        x = randn(3)
        y = t(x)
        torch.testing.assert_close(t.log_abs_det_jacobian(x, y), x + math.log(2))


@pytest.mark.slow
def test_compose_and_transformed_distribution_compile_fullgraph():
    from torchprob.composite.transformed_distribution import TransformedDistribution

    t = PT.ComposeTransform(
        [PT.AffineTransform(t64(0.5), t64(2.0)), PT.SigmoidTransform(), PT.TanhTransform().inv]
    )
    d = TransformedDistribution(
        Normal(torch.zeros(3, dtype=F64), 1.0, validate_args=False),
        [PT.TanhTransform(), PT.AffineTransform(1.0, 2.0)],
        validate_args=False,
    )

    def f(x):
        y = t(x)
        return y, t.log_abs_det_jacobian(x, y), t.inv(y), d.log_prob(x[:3].tanh() * 2 + 1)

    x = randn(5)
    for got, want in zip(torch.compile(f, fullgraph=True)(x), f(x)):
        torch.testing.assert_close(got, want)
