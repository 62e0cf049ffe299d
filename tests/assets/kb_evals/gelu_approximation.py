import torch

# The skill's constants (assets/layernorm_gelu/layernorm_gelu_cuda/common.cuh).
T1, T3 = -2.302208198, -0.1029432398
P, R = 0.47, (-0.0003892873878058905, 0.19462861763851297, 0.1396842019137416, 0.29145590791254633, -0.12539521517010005)
TWO_LOG2E = 2.8853900817779268


def gelu_tanh_fast(v):
    """0.5 v (1 + tanh(z)) = v / (1 + exp(-2z)): one exp2 and one reciprocal."""
    return v * torch.reciprocal(1 + torch.exp2(v * (T1 + T3 * v * v)))


def gelu_erf_fast(v):
    """0.5 v (1 + erf(v / sqrt 2)) with erfc(|z|) = t(u) exp(-z^2), u = 1 / (1 + p |z|) (rational in u)."""
    h = 0.5 * v
    a = h.abs()
    u = torch.reciprocal(1 + 2 * P * a)
    r = 2 * R[4]
    for c in (R[3], R[2], R[1], R[0]):
        r = r * u + 2 * c
    return h + a - a * r * torch.exp2(-TWO_LOG2E * h * h)
