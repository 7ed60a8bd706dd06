"""The helpers of ``torchprob.utils``, against their ``torch.distributions.utils`` twins."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import torch
from torch.distributions import utils as tdu

from torchprob import utils
from torchprob.utils import (
    broadcast_all,
    clamp_probs,
    euler_constant,
    lazy_property,
    logits_to_probs,
    probs_to_logits,
    tril_matrix_to_vec,
    vec_to_tril_matrix,
)

F64 = torch.float64


def same(actual: torch.Tensor, expected: torch.Tensor) -> None:
    """Same shape, dtype, device and values (bit for bit; NaNs equal)."""
    torch.testing.assert_close(actual, expected, rtol=0, atol=0, equal_nan=True)


# ------------------------------------------------------------------------------------------------
# broadcast_all
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        (torch.randn(3, 1, dtype=F64), torch.randn(4, dtype=F64)),
        (torch.randn(2, 3), torch.randn(3), torch.randn(1, 1)),
        (torch.randn(3, dtype=F64), 2.5),
        (1, torch.randn(2, 2, dtype=torch.float32)),  # the number takes the tensor's dtype
        (0.5, torch.tensor([1, 2])),  # an int tensor first: 0.5 becomes an int64 0, as in torch
        (torch.tensor([1, 2]), torch.randn(2, 1, dtype=F64)),  # mixed dtypes are kept, no promotion
        (torch.randn(2, dtype=torch.float32), 3, torch.randn(2, 1, dtype=F64)),  # first tensor
        (1.5, 2, True),  # numbers only: the default dtype
        (np.float64(0.25), torch.randn(3, dtype=F64)),
        (torch.randn(()), torch.randn(5)),
        (torch.randn(0, 3), 1.0),
        (),
    ],
    ids=lambda values: "-".join(type(v).__name__ for v in values) or "empty",
)
def test_broadcast_all_matches_torch(values):
    actual = broadcast_all(*values)
    expected = tdu.broadcast_all(*values)
    assert isinstance(actual, tuple)
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert isinstance(a, torch.Tensor)
        same(a, e)


def test_broadcast_all_numbers_take_first_tensor_dtype_and_device():
    low, high = broadcast_all(0.0, torch.empty(3, device="meta", dtype=torch.float16))
    assert low.device.type == "meta" and low.dtype == torch.float16 and low.shape == (3,)
    a, b, c = broadcast_all(2, torch.zeros(2, dtype=torch.int32), torch.zeros(2, dtype=F64))
    assert a.dtype == torch.int32 and b.dtype == torch.int32 and c.dtype == F64


def test_broadcast_all_numbers_only_use_default_dtype():
    previous = torch.get_default_dtype()
    try:
        torch.set_default_dtype(F64)
        (x,) = broadcast_all(1)
        assert x.dtype == F64 and x.shape == ()
    finally:
        torch.set_default_dtype(previous)
    (y,) = broadcast_all(1)
    assert y.dtype == previous


def test_broadcast_all_same_shape_fast_path_returns_the_same_objects():
    x, y = torch.randn(2, 3), torch.randn(2, 3, dtype=F64)
    out = broadcast_all(x, y)
    assert out[0] is x and out[1] is y
    (z,) = broadcast_all(x)
    assert z is x


def test_broadcast_all_broadcasts_without_copying():
    x, y = torch.randn(3, 1), torch.randn(4)
    bx, by = broadcast_all(x, y)
    assert bx.shape == by.shape == (3, 4)
    assert bx.data_ptr() == x.data_ptr() and by.data_ptr() == y.data_ptr()


@pytest.mark.parametrize(
    "values",
    [("a",), (torch.ones(2), None), ([1.0, 2.0], torch.ones(2)), (np.ones(2),), (1.0, object())],
    ids=["str", "None", "list", "ndarray", "object"],
)
def test_broadcast_all_rejects_other_types(values):
    with pytest.raises(ValueError, match="Number"):
        broadcast_all(*values)
    with pytest.raises(ValueError):
        tdu.broadcast_all(*values)


def test_broadcast_all_incompatible_shapes_raise():
    with pytest.raises(RuntimeError):
        broadcast_all(torch.ones(2), torch.ones(3))


class TensorLike:
    """Not a Tensor, but implements ``__torch_function__`` (unwraps itself and calls through)."""

    def __init__(self, tensor: torch.Tensor) -> None:
        self.tensor = tensor

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        args = [a.tensor if isinstance(a, TensorLike) else a for a in args]
        return func(*args, **(kwargs or {}))


def test_broadcast_all_torch_function_objects():
    like = TensorLike(torch.ones(3))
    expected = tdu.broadcast_all(like, torch.zeros(2, 1))
    actual = broadcast_all(like, torch.zeros(2, 1))
    for a, e in zip(actual, expected):
        same(a, e)


# ------------------------------------------------------------------------------------------------
# probabilities and logits
# ------------------------------------------------------------------------------------------------


def prob_values(dtype: torch.dtype) -> torch.Tensor:
    eps = torch.finfo(dtype).eps
    values = [0.0, 1e-300, 1e-40, eps / 2, eps, 1e-3, 0.25, 0.5, 0.75, 1 - eps, 1 - eps / 4, 1.0]
    return torch.tensor(values, dtype=F64).to(dtype).reshape(3, 4)


def logit_values(dtype: torch.dtype) -> torch.Tensor:
    values = [-math.inf, -800.0, -50.0, -1.0, 0.0, 0.3, 2.0, 17.0, 40.0, 800.0, math.inf, -3.0]
    return torch.tensor(values, dtype=dtype).reshape(3, 4)


@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("is_binary", [False, True], ids=["categorical", "binary"])
def test_probs_logits_conversions_match_torch(dtype, is_binary):
    probs = prob_values(dtype)
    same(probs_to_logits(probs, is_binary=is_binary), tdu.probs_to_logits(probs, is_binary))
    logits = logit_values(dtype)
    same(logits_to_probs(logits, is_binary=is_binary), tdu.logits_to_probs(logits, is_binary))


@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=["float32", "float64"])
def test_clamp_probs_matches_torch(dtype):
    probs = prob_values(dtype)
    clamped = clamp_probs(probs)
    same(clamped, tdu.clamp_probs(probs))
    eps = torch.finfo(dtype).eps
    assert clamped.min() == eps and clamped.max() == 1 - eps


def test_probs_logits_round_trip():
    probs = torch.softmax(torch.randn(4, 6, dtype=F64), -1)
    torch.testing.assert_close(logits_to_probs(probs_to_logits(probs)), probs, rtol=1e-14, atol=0)
    p = torch.rand(5, dtype=F64) * 0.98 + 0.01
    back = logits_to_probs(probs_to_logits(p, is_binary=True), is_binary=True)
    torch.testing.assert_close(back, p, rtol=1e-14, atol=0)


def test_probs_to_logits_keeps_gradients():
    probs = torch.tensor([0.2, 0.5], dtype=F64, requires_grad=True)
    (grad,) = torch.autograd.grad(probs_to_logits(probs, is_binary=True).sum(), probs)
    torch.testing.assert_close(grad, 1 / (probs * (1 - probs)).detach(), rtol=1e-14, atol=0)


# ------------------------------------------------------------------------------------------------
# triangular matrices and vectors
# ------------------------------------------------------------------------------------------------

TRIL_CASES = [(n, diag) for n in (1, 2, 3, 5) for diag in range(-n, n)]


@pytest.mark.parametrize("n,diag", TRIL_CASES, ids=[f"n{n}-diag{d}" for n, d in TRIL_CASES])
@pytest.mark.parametrize("batch", [(), (2,), (3, 1)], ids=["scalar", "b2", "b3x1"])
def test_tril_round_trips_and_matches_torch(n, diag, batch):
    g = torch.Generator().manual_seed(n * 100 + diag)
    mat = torch.randn(batch + (n, n), generator=g, dtype=F64)
    vec = tril_matrix_to_vec(mat, diag)
    same(vec, tdu.tril_matrix_to_vec(mat, diag))
    length = sum(max(min(i + diag, n - 1) + 1, 0) for i in range(n))
    assert vec.shape == batch + (length,)
    if length == 0:
        return  # an empty vector does not determine n
    tril = vec_to_tril_matrix(vec, diag)
    same(tril, torch.tril(mat, diag))
    same(tril, tdu.vec_to_tril_matrix(vec, diag))
    same(tril_matrix_to_vec(tril, diag), vec)


def test_vec_to_tril_matrix_keeps_gradients():
    vec = torch.randn(2, 6, dtype=F64, requires_grad=True)
    mat = vec_to_tril_matrix(vec)
    assert mat.shape == (2, 3, 3)
    (grad,) = torch.autograd.grad((mat * 2).sum(), vec)
    same(grad, torch.full_like(vec, 2.0))


@pytest.mark.parametrize(
    "length,diag", [(2, 0), (4, 0), (5, 0), (7, 0), (2, -1), (4, -1), (2, 1), (5, 1)]
)
def test_vec_to_tril_matrix_invalid_length_raises(length, diag):
    with pytest.raises(ValueError):
        vec_to_tril_matrix(torch.zeros(3, length), diag)


@pytest.mark.parametrize("diag", [-4, 3, 10])
def test_tril_matrix_to_vec_invalid_diag_raises(diag):
    with pytest.raises(ValueError, match="diag"):
        tril_matrix_to_vec(torch.zeros(3, 3), diag)


# ------------------------------------------------------------------------------------------------
# lazy_property
# ------------------------------------------------------------------------------------------------


class Lazy:
    def __init__(self, x: torch.Tensor) -> None:
        self.x = x
        self.calls = 0

    @lazy_property
    def doubled(self) -> torch.Tensor:
        """Twice x."""
        self.calls += 1
        return 2 * self.x


def test_lazy_property_computed_once_and_cached_in_dict():
    obj = Lazy(torch.tensor(1.5))
    assert "doubled" not in obj.__dict__
    first = obj.doubled
    assert obj.calls == 1
    assert obj.__dict__["doubled"] is first
    assert obj.doubled is first
    assert obj.calls == 1


def test_lazy_property_per_instance():
    a, b = Lazy(torch.tensor(1.0)), Lazy(torch.tensor(3.0))
    assert a.doubled.item() == 2.0 and b.doubled.item() == 6.0
    assert a.calls == b.calls == 1


def test_lazy_property_can_be_overwritten_by_assignment():
    obj = Lazy(torch.tensor(1.0))
    obj.doubled = torch.tensor(7.0)
    assert obj.doubled.item() == 7.0 and obj.calls == 0


def test_lazy_property_computed_with_grad_inside_no_grad():
    x = torch.tensor(1.5, requires_grad=True)
    obj = Lazy(x)
    with torch.no_grad():
        value = obj.doubled
        assert not torch.is_grad_enabled()
    assert value.requires_grad
    (grad,) = torch.autograd.grad(value, x)
    assert grad.item() == 2.0


def test_lazy_property_records_computed_names():
    obj = Lazy(torch.tensor(1.0))
    assert obj.doubled.item() == 2.0
    assert "doubled" in obj.__dict__[utils.LAZY_COMPUTED]


def test_lazy_property_on_the_class_is_a_property():
    attr = Lazy.doubled
    assert isinstance(attr, property)
    assert isinstance(attr, lazy_property)
    assert isinstance(Lazy.__dict__["doubled"], lazy_property)
    assert attr.__doc__ == "Twice x."
    obj = Lazy(torch.tensor(2.0))
    assert attr.fget(obj).item() == 4.0
    # As torch's: the class attribute is a property there too.
    assert isinstance(tdu.lazy_property(Lazy.doubled.fget).__get__(None, Lazy), property)


def test_lazy_property_name_and_doc():
    descriptor = Lazy.__dict__["doubled"]
    assert descriptor.__name__ == "doubled"
    assert descriptor.__doc__ == "Twice x."


# ------------------------------------------------------------------------------------------------
# constants
# ------------------------------------------------------------------------------------------------


def test_euler_constant():
    assert euler_constant == float(mp.euler)
    assert euler_constant == tdu.euler_constant
    assert abs(euler_constant - 0.5772156649015329) < 1e-16


def test_all_names_exist():
    for name in utils.__all__:
        assert hasattr(utils, name), name
    for name in tdu.__all__:
        assert hasattr(utils, name), name
