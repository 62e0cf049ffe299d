"""Correctness of the fused LayerNorm + GELU kernel against PyTorch (GPU only).

    cd assets/layernorm_gelu && python -m pytest tests -q
"""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from build_ext import load  # noqa: E402
from tests import cases  # noqa: E402
from tests.cases import APPROXIMATE, HIDDEN, large_offset  # noqa: E402
from tests.reference import TOLERANCES, reference_layernorm_gelu  # noqa: E402

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture(scope="module")
def ops():
    return load()


def make_inputs(rows, hidden, dtype, seed=0, misalign=False):
    x, w, b = cases.make_inputs(rows, hidden, dtype, seed=seed, device="cuda")
    if misalign:
        # Start one element past an allocation boundary, so that the 16-byte vector
        # path must fall back to masked scalar access.
        buf = torch.empty(rows * hidden + 1, device="cuda", dtype=dtype)
        x = buf[1:].view(rows, hidden).copy_(x)
    return x, w, b


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("approximate", APPROXIMATE)
@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("rows", [1, 7, 256])
def test_matches_reference(ops, rows, hidden, approximate, dtype):
    x, w, b = make_inputs(rows, hidden, dtype)
    got = ops.layernorm_gelu(x, w, b, 1e-5, approximate)
    want = reference_layernorm_gelu(x, w, b, 1e-5, approximate)
    assert got.dtype == dtype and got.shape == x.shape
    torch.testing.assert_close(got, want, **TOLERANCES[dtype])


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("approximate", APPROXIMATE)
@pytest.mark.parametrize("hidden", [17, 1023, 4096, 4097])
def test_large_offset(ops, hidden, approximate, dtype):
    x, w, b = large_offset(64, hidden, dtype, device="cuda")
    torch.testing.assert_close(ops.layernorm_gelu(x, w, b, 1e-5, approximate),
                               reference_layernorm_gelu(x, w, b, 1e-5, approximate), **TOLERANCES[dtype])


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_misaligned_input_takes_fallback(ops, dtype):
    x, w, b = make_inputs(33, 4096, dtype, misalign=True)
    assert x.data_ptr() % 16 != 0
    torch.testing.assert_close(
        ops.layernorm_gelu(x, w, b, 1e-5), reference_layernorm_gelu(x, w, b, 1e-5), **TOLERANCES[dtype]
    )


def test_batched_3d_input(ops):
    x, w, b = make_inputs(4 * 9, 2048, torch.bfloat16)
    x = x.view(4, 9, 2048)
    torch.testing.assert_close(
        ops.layernorm_gelu(x, w, b, 1e-6), reference_layernorm_gelu(x, w, b, 1e-6),
        **TOLERANCES[torch.bfloat16],
    )


def test_rejects_bad_input(ops):
    x, w, b = make_inputs(2, 768, torch.float32)
    with pytest.raises(RuntimeError):
        ops.layernorm_gelu(x.half(), w.half(), b.half(), 1e-5)
    with pytest.raises(RuntimeError):
        ops.layernorm_gelu(x, w[:-1], b, 1e-5)
    with pytest.raises(RuntimeError):
        ops.layernorm_gelu(x, w, b, 1e-5, "sigmoid")


def test_reports_implementation(ops):
    major = torch.cuda.get_device_capability()[0]
    assert ops.implementation() == ("f32x2" if major >= 10 else "f32")
