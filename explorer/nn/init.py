"""PyTorch-default parameter initialisation driven by a numpy ``Generator``.

``nn.Conv2d`` / ``nn.Linear`` use ``kaiming_uniform_(a=sqrt(5))`` which works
out to ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` for weights, and the same bound
for biases.  Reproducing that keeps the explorer's activation statistics
comparable to what a freshly built torch model would show.
"""

from __future__ import annotations

import math

import numpy as np

from explorer.nn.functional import IntPair, pair

__all__ = ["uniform_bound", "conv2d_params", "linear_params", "batchnorm_params"]


def uniform_bound(fan_in: int) -> float:
    """Half-width of torch's default uniform init; 0 for an empty fan-in."""
    return 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0


def _uniform(rng: np.random.Generator, bound: float, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


def conv2d_params(
    rng: np.random.Generator,
    in_channels: int,
    out_channels: int,
    kernel_size: IntPair,
    groups: int = 1,
    bias: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Weight ``(C_out, C_in/groups, kh, kw)`` and optional bias ``(C_out,)``, float32."""
    if groups <= 0 or in_channels % groups or out_channels % groups:
        raise ValueError(
            f"in_channels={in_channels} and out_channels={out_channels} "
            f"must be divisible by groups={groups}"
        )
    kh, kw = pair(kernel_size)
    fan_in = in_channels // groups * kh * kw
    bound = uniform_bound(fan_in)
    weight = _uniform(rng, bound, (out_channels, in_channels // groups, kh, kw))
    return weight, (_uniform(rng, bound, (out_channels,)) if bias else None)


def linear_params(
    rng: np.random.Generator, in_features: int, out_features: int, bias: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """Weight ``(out, in)`` and optional bias ``(out,)``, float32."""
    bound = uniform_bound(in_features)
    weight = _uniform(rng, bound, (out_features, in_features))
    return weight, (_uniform(rng, bound, (out_features,)) if bias else None)


def batchnorm_params(num_features: int) -> dict[str, np.ndarray]:
    """Fresh ``BatchNorm2d`` state: affine ``weight=1, bias=0`` and running ``mean=0, var=1``."""
    return {
        "weight": np.ones(num_features, dtype=np.float32),
        "bias": np.zeros(num_features, dtype=np.float32),
        "running_mean": np.zeros(num_features, dtype=np.float32),
        "running_var": np.ones(num_features, dtype=np.float32),
    }
