"""CPU checks of the kernel's arithmetic (tests/kernel_model.py) against the float64
reference, within the derived tolerances of tests/reference.py. No GPU needed.

    cd assets/layernorm_gelu && python -m pytest tests/test_model.py -q
"""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.cases import APPROXIMATE, HIDDEN, large_offset, make_inputs  # noqa: E402
from tests.kernel_model import model_layernorm_gelu  # noqa: E402
from tests.reference import TOLERANCES, reference_layernorm_gelu  # noqa: E402


def check(x, w, b, approximate, eps=1e-5):
    got = model_layernorm_gelu(x, w, b, eps, approximate)
    want = reference_layernorm_gelu(x, w, b, eps, approximate)
    torch.testing.assert_close(got, want, **TOLERANCES[x.dtype])


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("approximate", APPROXIMATE)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_model_matches_reference(hidden, approximate, dtype):
    check(*make_inputs(4, hidden, dtype), approximate)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("approximate", APPROXIMATE)
@pytest.mark.parametrize("hidden", [17, 1023, 4096])
def test_large_offset(hidden, approximate, dtype):
    check(*large_offset(4, hidden, dtype), approximate)


def test_large_offset_breaks_unshifted_statistics():
    """The large-offset case can fail: E[x^2] - E[x]^2 in fp32 gets the variance wrong."""
    x, _, _ = large_offset(4, 4096, torch.float32)
    naive = (x * x).mean(dim=1) - x.mean(dim=1) ** 2
    exact = x.double().var(dim=1, unbiased=False)
    assert ((naive.double() - exact).abs() / exact).max() > 0.1
