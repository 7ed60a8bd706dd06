"""torchprob.constraints against torch.distributions.constraints."""

from __future__ import annotations

import inspect
import math
import tempfile

import pytest
import torch
import torch.distributions.constraints as TC

import torchprob.constraints as C

NAN = math.nan
INF = math.inf

# ----------------------------------------------------------------------------------------------
# Names and types
# ----------------------------------------------------------------------------------------------


def _torch_constraint_classes() -> list[str]:
    return [
        name
        for name, obj in vars(TC).items()
        if inspect.isclass(obj) and issubclass(obj, TC.Constraint)
    ]


def test_all_public_names_exported():
    missing = [name for name in TC.__all__ if not hasattr(C, name)]
    assert missing == []
    assert set(C.__all__) == set(TC.__all__)


@pytest.mark.parametrize("name", _torch_constraint_classes())
def test_private_class_names_kept(name):
    ours = getattr(C, name)
    theirs = getattr(TC, name)
    assert inspect.isclass(ours) and issubclass(ours, C.Constraint)
    # Same ancestry among constraint classes (e.g. _PositiveDefinite is a _Symmetric).
    ours_bases = [b.__name__ for b in ours.__mro__ if issubclass(b, C.Constraint)]
    theirs_bases = [b.__name__ for b in theirs.__mro__ if issubclass(b, TC.Constraint)]
    assert ours_bases == theirs_bases


@pytest.mark.parametrize("name", TC.__all__)
def test_public_objects_have_torch_types(name):
    ours, theirs = getattr(C, name), getattr(TC, name)
    if inspect.isclass(theirs):
        assert inspect.isclass(ours) and ours.__name__ == theirs.__name__
    elif inspect.isfunction(theirs):
        assert callable(ours)
    else:
        assert type(ours).__name__ == type(theirs).__name__


# ----------------------------------------------------------------------------------------------
# Parity of check(), event_dim and is_discrete
# ----------------------------------------------------------------------------------------------

SCALARS = torch.tensor(
    [
        [-INF, -2.0, -1.0, -0.5, -0.0, 0.0, 1e-30, 0.5, 1.0],
        [1.0 + 1e-7, 1.5, 2.0, 3.0, 7.0, 10.0, INF, NAN, 0.25],
    ]
)
INTS = torch.tensor([[-3, -1, 0, 1, 2], [3, 5, 7, 10, 11]])

# (label, builder taking the constraints module)
SCALAR_CONSTRAINTS = [
    ("real", lambda m: m.real),
    ("positive", lambda m: m.positive),
    ("nonnegative", lambda m: m.nonnegative),
    ("unit_interval", lambda m: m.unit_interval),
    ("boolean", lambda m: m.boolean),
    ("nonnegative_integer", lambda m: m.nonnegative_integer),
    ("positive_integer", lambda m: m.positive_integer),
    ("greater_than", lambda m: m.greater_than(-1.0)),
    ("greater_than_eq", lambda m: m.greater_than_eq(-1.0)),
    ("less_than", lambda m: m.less_than(1.0)),
    ("interval", lambda m: m.interval(-1.0, 2.0)),
    ("half_open_interval", lambda m: m.half_open_interval(-1.0, 2.0)),
    ("integer_interval", lambda m: m.integer_interval(0, 7)),
    ("integer_less_than", lambda m: m._IntegerLessThan(3)),
    (
        "interval_tensor",
        lambda m: m.interval(torch.tensor([-1.0]), torch.tensor([0.5, 2.0])[:, None]),
    ),
    ("greater_than_tensor", lambda m: m.greater_than(torch.tensor([[0.0], [2.0]]))),
    ("less_than_tensor", lambda m: m.less_than(torch.tensor(1.0))),
    ("half_open_tensor", lambda m: m.half_open_interval(torch.tensor(0.0), torch.tensor(1.0))),
    ("integer_interval_tensor", lambda m: m.integer_interval(torch.tensor(1), torch.tensor(5))),
]


def _assert_same_check(ours: C.Constraint, theirs: TC.Constraint, value: torch.Tensor) -> None:
    expected = theirs.check(value)
    got = ours.check(value)
    assert got.dtype == torch.bool
    assert got.shape == expected.shape
    assert torch.equal(got, expected.to(torch.bool)), (ours, value, got, expected)


@pytest.mark.parametrize("label,build", SCALAR_CONSTRAINTS, ids=[s[0] for s in SCALAR_CONSTRAINTS])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_scalar_check_matches_torch(label, build, dtype):
    ours, theirs = build(C), build(TC)
    _assert_same_check(ours, theirs, SCALARS.to(dtype))
    _assert_same_check(ours, theirs, SCALARS.to(dtype)[None, :, 3:])  # extra batch dim
    _assert_same_check(ours, theirs, SCALARS.to(dtype)[0, 4])  # 0-dim value
    assert ours.event_dim == theirs.event_dim == 0
    assert ours.is_discrete == theirs.is_discrete


@pytest.mark.parametrize(
    "label,build",
    [s for s in SCALAR_CONSTRAINTS if not s[0].startswith("interval_tensor")],
    ids=[s[0] for s in SCALAR_CONSTRAINTS if not s[0].startswith("interval_tensor")],
)
def test_scalar_check_integer_values(label, build):
    _assert_same_check(build(C), build(TC), INTS)


@pytest.mark.parametrize("seed", range(5))
def test_scalar_checks_random(seed):
    g = torch.Generator().manual_seed(seed)
    value = torch.randn(64, generator=g) * 3
    value[::7] = value[::7].round()  # some integers, some values exactly on a bound
    value[::11] = torch.tensor([NAN, INF, -INF, 0.0, -0.0, 1.0])[seed]
    lo, hi = sorted((torch.randn(2, generator=g) * 2).round(decimals=1).tolist())
    pairs = [
        (C.interval(lo, hi), TC.interval(lo, hi)),
        (C.half_open_interval(lo, hi), TC.half_open_interval(lo, hi)),
        (C.greater_than(lo), TC.greater_than(lo)),
        (C.greater_than_eq(lo), TC.greater_than_eq(lo)),
        (C.less_than(hi), TC.less_than(hi)),
        (C.real, TC.real),
        (C.integer_interval(lo, hi), TC.integer_interval(lo, hi)),
    ]
    for ours, theirs in pairs:
        _assert_same_check(ours, theirs, value)


VECTORS = torch.tensor(
    [
        [0.2, 0.3, 0.5],
        [1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0 + 5e-7],  # inside the simplex tolerance
        [0.0, 0.0, 1.0 + 5e-6],  # outside it
        [0.5, 0.6, -0.1],
        [0.5, 0.5, 0.5],
        [NAN, 0.5, 0.5],
        [INF, 0.0, 0.0],
        [-INF, 1.0, 1.0],
        [0.0, 0.0, 0.0],
        [2.0, 1.0, 0.0],
        [1.0, 1.0, 0.0],
        [3.0, 0.0, 2.0],
        [1.5, -0.5, 0.0],
    ],
    dtype=torch.float64,
)

VECTOR_CONSTRAINTS = [
    ("simplex", lambda m: m.simplex),
    ("one_hot", lambda m: m.one_hot),
    ("multinomial", lambda m: m.multinomial(3)),
    ("multinomial_tensor", lambda m: m.multinomial(torch.tensor(2.0))),
    ("real_vector", lambda m: m.real_vector),
    ("independent_positive", lambda m: m.independent(m.positive, 1)),
    ("independent_2", lambda m: m.independent(m.unit_interval, 2)),
    ("independent_0", lambda m: m.independent(m.real, 0)),
    ("independent_of_simplex", lambda m: m.independent(m.simplex, 1)),
]


@pytest.mark.parametrize("label,build", VECTOR_CONSTRAINTS, ids=[s[0] for s in VECTOR_CONSTRAINTS])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_vector_check_matches_torch(label, build, dtype):
    ours, theirs = build(C), build(TC)
    value = VECTORS.to(dtype)
    _assert_same_check(ours, theirs, value)
    _assert_same_check(ours, theirs, value.reshape(2, 7, 3))
    _assert_same_check(ours, theirs, value[:12].reshape(2, 2, 3, 3))
    assert ours.event_dim == theirs.event_dim
    assert ours.is_discrete == theirs.is_discrete


def test_vector_checks_on_integer_counts():
    counts = torch.tensor([[0, 1, 0], [1, 1, 0], [0, 0, 0], [3, 0, 0], [-1, 2, 0]])
    for name in ["one_hot", "real_vector"]:
        _assert_same_check(getattr(C, name), getattr(TC, name), counts)
    _assert_same_check(C.multinomial(3), TC.multinomial(3), counts)


def _spd(n: int, batch: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(batch, n, n, generator=g, dtype=torch.float64)
    return a @ a.mT + n * torch.eye(n, dtype=torch.float64)


def _corr_cholesky(n: int, batch: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    raw = torch.randn(batch, n, n, generator=g, dtype=torch.float64).tril()
    raw.diagonal(dim1=-2, dim2=-1).abs_().add_(0.1)
    return raw / torch.linalg.vector_norm(raw, dim=-1, keepdim=True)


def _matrices(dtype: torch.dtype) -> list[torch.Tensor]:
    spd = _spd(3, 4, 0)
    chol = torch.linalg.cholesky(spd)
    corr = _corr_cholesky(3, 4, 1)
    singular = torch.ones(3, 3, dtype=torch.float64)  # PSD, not PD
    indefinite = torch.diag(torch.tensor([1.0, -1.0, 2.0], dtype=torch.float64))
    nonsym = spd.clone()
    nonsym[:, 0, 2] += 1.0
    almost_sym = spd.clone()
    almost_sym[:, 0, 1] += 1e-7
    zero_diag = chol.clone()
    zero_diag[:, 1, 1] = 0.0
    upper = chol.mT.clone()
    with_nan = spd.clone()
    with_nan[1, 1, 1] = NAN
    with_inf = spd.clone()
    with_inf[2, 0, 0] = INF
    perturbed_corr = corr.clone()
    perturbed_corr[:, 2, 2] *= 1 + 1e-3
    mats = [
        spd,
        chol,
        corr,
        singular,
        indefinite,
        nonsym,
        almost_sym,
        zero_diag,
        upper,
        with_nan,
        with_inf,
        perturbed_corr,
        torch.eye(1, dtype=torch.float64),
        spd.reshape(2, 2, 3, 3),
    ]
    return [m.to(dtype) for m in mats]


MATRIX_CONSTRAINTS = [
    "lower_triangular",
    "lower_cholesky",
    "corr_cholesky",
    "square",
    "symmetric",
    "positive_semidefinite",
    "positive_definite",
]


@pytest.mark.parametrize("name", MATRIX_CONSTRAINTS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matrix_check_matches_torch(name, dtype):
    ours, theirs = getattr(C, name), getattr(TC, name)
    for value in _matrices(dtype):
        if name in ("positive_semidefinite", "positive_definite"):
            # torch returns only the symmetry check if any matrix in the batch is not symmetric;
            # compare one matrix at a time so that the answers are comparable.
            for m in value.reshape(-1, *value.shape[-2:]):
                _assert_same_check(ours, theirs, m)
        else:
            _assert_same_check(ours, theirs, value)
    assert ours.event_dim == theirs.event_dim == 2
    assert ours.is_discrete is theirs.is_discrete is False


@pytest.mark.parametrize(
    "name", ["square", "symmetric", "positive_semidefinite", "positive_definite"]
)
def test_non_square_matrices(name):
    value = torch.zeros(2, 3, 4)
    _assert_same_check(getattr(C, name), getattr(TC, name), value)
    assert not C.square.check(value).any()


def test_psd_and_pd_judge_each_matrix_on_its_own():
    spd = _spd(3, 1, 5)[0]
    indefinite = torch.diag(torch.tensor([1.0, -1.0, 2.0], dtype=torch.float64))
    nonsym = spd.clone()
    nonsym[0, 2] += 1.0
    singular = torch.diag(torch.tensor([1.0, 0.0, 2.0], dtype=torch.float64))
    batch = torch.stack([spd, indefinite, nonsym, singular, torch.full((3, 3), NAN)])
    assert C.positive_semidefinite.check(batch).tolist() == [True, False, False, True, False]
    assert C.positive_definite.check(batch).tolist() == [True, False, False, False, False]
    assert C.symmetric.check(batch).tolist() == [True, True, False, True, False]


def test_empty_matrices():
    value = torch.zeros(4, 0, 0)
    for name in MATRIX_CONSTRAINTS:
        assert getattr(C, name).check(value).tolist() == [True] * 4, name


def test_mixture_same_family_matches_torch():
    base_pairs = [
        (
            C.interval(torch.tensor([0.0, -1.0]), torch.tensor([1.0, 2.0])),
            TC.interval(torch.tensor([0.0, -1.0]), torch.tensor([1.0, 2.0])),
        ),
        (C.real, TC.real),
        (C.positive, TC.positive),
        (C.simplex, TC.simplex),
        (C.independent(C.positive, 1), TC.independent(TC.positive, 1)),
    ]
    for ours_base, theirs_base in base_pairs:
        ours = C.MixtureSameFamilyConstraint(ours_base)
        theirs = TC.MixtureSameFamilyConstraint(theirs_base)
        assert ours.event_dim == theirs.event_dim
        assert ours.is_discrete == theirs.is_discrete
        _assert_same_check(ours, theirs, SCALARS)
        _assert_same_check(ours, theirs, VECTORS.reshape(2, 7, 3))
        if ours.event_dim == 0:
            _assert_same_check(ours, theirs, SCALARS[0, 3])
    discrete = C.MixtureSameFamilyConstraint(C.nonnegative_integer)
    assert discrete.is_discrete
    _assert_same_check(discrete, TC.MixtureSameFamilyConstraint(TC.nonnegative_integer), INTS)


def test_cat_and_stack_match_torch():
    value = torch.tensor(
        [[-1.0, 0.5, 2.0, 0.3, NAN], [1.0, -0.5, 0.0, 1.0, 4.0], [INF, 0.0, 0.7, 0.3, -INF]]
    )
    cases = [
        (lambda m: m.cat([m.real, m.positive, m.unit_interval], dim=-1, lengths=[1, 2, 2]), value),
        (lambda m: m.cat([m.positive, m.real], dim=0, lengths=[2, 1]), value),
        (lambda m: m.cat([m.positive, m.real, m.unit_interval]), value),
        (lambda m: m.cat([m.simplex, m.real_vector], dim=-1, lengths=[2, 3]), value),
        (lambda m: m.cat([m.boolean, m.real], dim=1, lengths=[3, 2]), value),
        (lambda m: m.stack([m.real, m.positive, m.unit_interval], dim=0), value),
        (
            lambda m: m.stack([m.real, m.positive, m.unit_interval, m.real, m.boolean], dim=-1),
            value,
        ),
        (lambda m: m.stack([m.simplex, m.real_vector], dim=0), value[:2]),
    ]
    for build, v in cases:
        ours, theirs = build(C), build(TC)
        assert ours.event_dim == theirs.event_dim
        assert ours.is_discrete == theirs.is_discrete
        assert ours.dim == theirs.dim
        assert len(ours.cseq) == len(theirs.cseq)
        _assert_same_check(ours, theirs, v)
    c = C.cat([C.real, C.positive], dim=1, lengths=[2, 3])
    assert c.lengths == [2, 3] and c._cseq is c.cseq
    assert C.stack([C.real]).dim == 0


def test_cat_stack_reject_bad_arguments():
    with pytest.raises(TypeError):
        C.cat([C.real, 3])
    with pytest.raises(ValueError):
        C.cat([C.real, C.positive], lengths=[1])
    with pytest.raises(TypeError):
        C.stack([C.real, "positive"])
    with pytest.raises(ValueError):
        C.stack([C.real], dim=2).check(torch.zeros(3))


def test_independent_errors():
    with pytest.raises(ValueError, match="value.dim"):
        C.independent(C.real, 2).check(torch.zeros(3))
    with pytest.raises(TypeError):
        C.independent(3.0, 1)
    with pytest.raises(ValueError):
        C.independent(C.real, -1)
    with pytest.raises(TypeError):
        C.MixtureSameFamilyConstraint("real")
    c = C.independent(C.simplex, 2)
    assert c.base_constraint is C.simplex
    assert c.reinterpreted_batch_ndims == 2 and c.event_dim == 3


# ----------------------------------------------------------------------------------------------
# No host synchronization: every check runs on meta tensors, which have no data to read
# ----------------------------------------------------------------------------------------------


ALL_INSTANCES = [
    (C.real, (2, 3)),
    (C.positive, (2, 3)),
    (C.nonnegative, (2, 3)),
    (C.unit_interval, (2, 3)),
    (C.boolean, (2, 3)),
    (C.nonnegative_integer, (2, 3)),
    (C.positive_integer, (2, 3)),
    (C.greater_than(1.0), (2, 3)),
    (C.greater_than_eq(1.0), (2, 3)),
    (C.less_than(1.0), (2, 3)),
    (C.interval(0.0, 2.0), (2, 3)),
    (C.half_open_interval(0.0, 2.0), (2, 3)),
    (C.integer_interval(0, 2), (2, 3)),
    (C._IntegerLessThan(2), (2, 3)),
    (C.real_vector, (2, 3)),
    (C.independent(C.positive, 2), (4, 2, 3)),
    (C.simplex, (2, 3)),
    (C.one_hot, (2, 3)),
    (C.multinomial(4), (2, 3)),
    (C.lower_triangular, (2, 3, 3)),
    (C.lower_cholesky, (2, 3, 3)),
    (C.corr_cholesky, (2, 3, 3)),
    (C.square, (2, 3, 3)),
    (C.symmetric, (2, 3, 3)),
    (C.positive_semidefinite, (2, 3, 3)),
    (C.positive_definite, (2, 3, 3)),
    (C.MixtureSameFamilyConstraint(C.positive), (2, 3)),
    (C.cat([C.real, C.positive], dim=-1, lengths=[1, 2]), (2, 3)),
    (C.stack([C.real, C.positive, C.real], dim=0), (3, 2)),
]


@pytest.mark.parametrize("constraint,shape", ALL_INSTANCES, ids=[repr(c) for c, _ in ALL_INSTANCES])
def test_check_needs_no_host_sync(constraint, shape):
    value = torch.empty(shape, device="meta")
    result = constraint.check(value)
    assert result.dtype == torch.bool
    assert result.device.type == "meta"
    assert result.shape == shape[: len(shape) - constraint.event_dim]


def test_check_works_on_dtensor():
    dist = pytest.importorskip("torch.distributed")
    if not dist.is_available() or dist.is_initialized():
        pytest.skip("torch.distributed unavailable or already in use")
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import DTensor, Shard, distribute_tensor

    with tempfile.NamedTemporaryFile() as f:
        dist.init_process_group("gloo", rank=0, world_size=1, init_method=f"file://{f.name}")
        try:
            mesh = init_device_mesh("cpu", (1,))
            for constraint, shape in ALL_INSTANCES:
                if constraint in (C.positive_semidefinite, C.positive_definite):
                    continue  # linear algebra has no sharding rules; not elementwise
                local = torch.rand(shape)
                value = distribute_tensor(local, mesh, [Shard(0)])
                result = constraint.check(value)
                assert isinstance(result, DTensor), constraint
                assert torch.equal(result.full_tensor(), constraint.check(local)), constraint
        finally:
            dist.destroy_process_group()


# ----------------------------------------------------------------------------------------------
# repr
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "constraint,text",
    [
        (C.real, "Real()"),
        (C.positive, "GreaterThan(lower_bound=0.0)"),
        (C.nonnegative, "GreaterThanEq(lower_bound=0.0)"),
        (C.greater_than(-1), "GreaterThan(lower_bound=-1)"),
        (C.less_than(2.5), "LessThan(upper_bound=2.5)"),
        (C.unit_interval, "Interval(lower_bound=0.0, upper_bound=1.0)"),
        (C.half_open_interval(0.0, 1.0), "HalfOpenInterval(lower_bound=0.0, upper_bound=1.0)"),
        (C.integer_interval(0, 5), "IntegerInterval(lower_bound=0, upper_bound=5)"),
        (C.nonnegative_integer, "IntegerGreaterThan(lower_bound=0)"),
        (C.positive_integer, "IntegerGreaterThan(lower_bound=1)"),
        (C._IntegerLessThan(3), "IntegerLessThan(upper_bound=3)"),
        (C.boolean, "Boolean()"),
        (C.one_hot, "OneHot()"),
        (C.simplex, "Simplex()"),
        (C.multinomial(10), "Multinomial(upper_bound=10)"),
        (C.real_vector, "IndependentConstraint(Real(), 1)"),
        (C.lower_cholesky, "LowerCholesky()"),
        (C.corr_cholesky, "CorrCholesky()"),
        (C.positive_definite, "PositiveDefinite()"),
        (C.MixtureSameFamilyConstraint(C.real), "MixtureSameFamilyConstraint(Real())"),
        (
            C.cat([C.real, C.positive], 1, [2, 3]),
            "Cat([Real(), GreaterThan(lower_bound=0.0)], dim=1, lengths=[2, 3])",
        ),
        (C.stack([C.real], dim=-1), "Stack([Real()], dim=-1)"),
        (C.dependent, "Dependent()"),
        (C.dependent(is_discrete=True, event_dim=1), "Dependent(is_discrete=True, event_dim=1)"),
        (
            C.interval(torch.tensor(0.0), torch.tensor([1.0, 2.0])),
            "Interval(lower_bound=tensor(0.0), upper_bound=tensor([1.0, 2.0]))",
        ),
        (C.greater_than(torch.zeros(3, 4)), "GreaterThan(lower_bound=tensor(shape=[3, 4]))"),
        (C.less_than(torch.tensor(0.1)), "LessThan(upper_bound=tensor(0.1))"),
        (
            C.integer_interval(torch.tensor(0), 3),
            "IntegerInterval(lower_bound=tensor(0), upper_bound=3)",
        ),
    ],
)
def test_repr(constraint, text):
    assert repr(constraint) == text


def test_repr_of_user_subclass_keeps_full_name():
    class MyConstraint(C.Constraint):
        pass

    assert repr(MyConstraint()) == "MyConstraint()"


# ----------------------------------------------------------------------------------------------
# dependent, dependent_property, is_dependent
# ----------------------------------------------------------------------------------------------


def test_dependent():
    assert C.is_dependent(C.dependent)
    with pytest.raises(NotImplementedError):
        C.dependent.is_discrete  # noqa: B018
    with pytest.raises(NotImplementedError):
        C.dependent.event_dim  # noqa: B018
    with pytest.raises(ValueError):
        C.dependent.check(torch.zeros(2))
    d = C.dependent(is_discrete=True, event_dim=1)
    assert isinstance(d, C._Dependent) and d is not C.dependent
    assert d.is_discrete is True and d.event_dim == 1
    d2 = d(event_dim=2)  # keeps the attributes it is not told to change
    assert d2.is_discrete is True and d2.event_dim == 2
    for c in [C.real, C.positive, C.simplex, C.real_vector, C.interval(0, 1), C.cat([C.real])]:
        assert not C.is_dependent(c)
    assert not C.is_dependent(None)
    assert not C.is_dependent(TC.dependent)


def test_dependent_property():
    class Dist:
        def __init__(self, low, high):
            self.low, self.high = low, high

        @C.dependent_property
        def bare(self):
            return C.interval(self.low, self.high)

        @C.dependent_property(is_discrete=False, event_dim=0)
        def support(self):
            return C.interval(self.low, self.high)

    on_class = Dist.support
    assert isinstance(on_class, C._DependentProperty) and isinstance(on_class, property)
    assert C.is_dependent(on_class) and C.is_dependent(Dist.bare)
    assert on_class.is_discrete is False and on_class.event_dim == 0
    with pytest.raises(NotImplementedError):
        Dist.bare.event_dim  # noqa: B018
    with pytest.raises(ValueError):
        on_class.check(torch.zeros(1))

    d = Dist(0.0, 2.0)
    assert isinstance(d.support, C._Interval)
    assert (d.support.lower_bound, d.support.upper_bound) == (0.0, 2.0)
    assert d.support.check(torch.tensor([1.0, 3.0])).tolist() == [True, False]
    assert isinstance(d.bare, C._Interval)
    with pytest.raises(AttributeError):
        d.support = C.real  # a read-only property


def test_attributes():
    assert C.positive.lower_bound == 0.0
    assert C.unit_interval.lower_bound == 0.0 and C.unit_interval.upper_bound == 1.0
    assert C.less_than(3).upper_bound == 3
    assert C.multinomial(7).upper_bound == 7
    assert C.integer_interval(2, 9).upper_bound == 9
    assert C.real_vector.base_constraint is C.real
    assert C.real_vector.reinterpreted_batch_ndims == 1
    assert isinstance(C.positive_definite, C._Symmetric) and isinstance(C.symmetric, C._Square)
    assert C.nonnegative_integer.is_discrete and not C.real_vector.is_discrete
    assert C.independent(C.boolean, 1).is_discrete
    assert C.cat([C.real, C.boolean]).is_discrete and not C.stack([C.real]).is_discrete


@pytest.mark.parametrize(
    "row",
    [
        [0.2, 0.3, 0.5],
        [0.2, 0.3, 0.5 + 4e-7],
        [0.2, 0.3, 0.5 + 9e-7],
        [0.2, 0.3, 0.5 + 2e-6],
        [-0.0, 0.5, 0.5],
        [-1e-9, 0.5, 0.5 + 1e-9],
        [math.nan, 0.5, 0.5],
        [1.0],
    ],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_simplex_small_path_agrees_with_check(row, dtype):
    """The Python-number shortcut only ever confirms what the tensor check says."""
    value = torch.tensor([row, row], dtype=dtype)
    if C.simplex.check_small(value):
        assert C.simplex.check(value).all()
