"""The big-tensor fast routes (in-place passes chosen after a host read, from 65536 elements on)
give what the ordinary route gives: the same log_prob evaluated on one big tensor and on pieces
too small for the fast route."""

from __future__ import annotations

import pytest
import torch

from .examples import EXAMPLES

BIG = 70_000  # above the fast routes' threshold (65536)
PIECE = 30_000  # below it


def _scalar_univariate() -> list:
    cases = []
    for ex in EXAMPLES:
        d = ex.build()
        if d.batch_shape == () and d.event_shape == () and "test_support" not in ex.skip:
            cases.append(pytest.param(ex, id=ex.id))
    return cases


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("ex", _scalar_univariate())
def test_fast_route_matches_small_route(ex, dtype):
    d = ex.build(dtype=dtype, validate_args=False)
    x = d.sample((BIG,), generator=torch.Generator().manual_seed(0)).to(dtype)
    whole = d.log_prob(x)
    pieces = torch.cat([d.log_prob(part) for part in x.split(PIECE)])
    rtol = 1e-12 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(whole, pieces, rtol=rtol, atol=rtol, equal_nan=True)
