import torch
import torch.nn.functional as F


def layernorm_gelu(x, weight, bias, eps, approximate):
    """GELU(LayerNorm(x) * weight + bias) over the last dimension, computed in float64."""
    y = F.layer_norm(x.double(), (x.shape[-1],), weight.double(), bias.double(), eps)
    return F.gelu(y, approximate=approximate).to(x.dtype)
