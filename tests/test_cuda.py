"""CUDA paths: validation without host synchronization, nothing moved to the CPU.

Skipped without a CUDA device (this project's CI machine has none; run it where one exists).
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from .examples import EXAMPLES
from .rebuild import first_per_class, flatten

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _first_per_class() -> list:
    return [pytest.param(ex, id=ex.cls.__name__) for ex in first_per_class(EXAMPLES)]


@pytest.mark.parametrize("ex", _first_per_class())
def test_stays_on_device_without_sync(ex):
    leaves, rebuild = flatten(ex.cls, ex.params)
    leaves = [t.cuda() for t in leaves]
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")  # any host synchronization raises
    try:
        d = rebuild(leaves, True)
        x = d.sample()
        log_prob = d.log_prob(x)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert x.device.type == "cuda" and log_prob.device.type == "cuda"


def test_invalid_parameter_raises_asynchronously():
    """A failed check is a device-side assertion: it surfaces at the next synchronization (in
    a subprocess, since a device-side assertion poisons the CUDA context that hit it)."""
    code = (
        "import torch, torchprob as tp\n"
        "scale = torch.tensor([1.0, -1.0], device='cuda')\n"
        "tp.Normal(torch.zeros(2, device='cuda'), scale, validate_args=True)\n"
        "torch.cuda.synchronize()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode != 0
    assert "scale" in done.stderr or "assert" in done.stderr.lower()
