"""Pure-numpy forward ops with PyTorch semantics (NCHW, floor-mode pooling).

Every op mirrors the matching ``torch.nn.functional`` call so the explorer can
run real forward passes in the browser (Pyodide) without torch.  Spatial
loops are avoided: windows come from ``sliding_window_view`` and the
arithmetic is done by matmul / reductions over whole arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "pair",
    "conv_output_size",
    "pool_output_size",
    "conv2d",
    "batch_norm",
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "softmax",
    "max_pool2d",
    "avg_pool2d",
    "adaptive_avg_pool2d",
    "dropout",
    "flatten",
    "linear",
    "relu6",
    "silu",
    "hardswish",
    "hardsigmoid",
    "gelu",
    "erf",
    "adaptive_max_pool2d",
    "stochastic_depth",
]

IntPair = int | tuple[int, int] | Sequence[int]


# --------------------------------------------------------------------------
# Size helpers
# --------------------------------------------------------------------------


def pair(v: IntPair) -> tuple[int, int]:
    """Normalise an int or a 2-sequence to ``(h, w)`` so callers accept both."""
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    items = tuple(v)
    if len(items) != 2:
        raise ValueError(f"expected an int or a pair, got {v!r}")
    return int(items[0]), int(items[1])


def conv_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Output length along one axis of a conv/pool window (floor mode)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def pool_output_size(
    size: int, kernel: int, stride: int | None = None, padding: int = 0, dilation: int = 1
) -> int:
    """Pooling output length; ``stride=None`` means stride equals the kernel (torch default)."""
    return conv_output_size(size, kernel, kernel if stride is None else stride, padding, dilation)


def _as_float(x: np.ndarray) -> np.ndarray:
    """Return ``x`` as a floating array, casting non-floats to float32."""
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float32)


def _check_4d(x: np.ndarray, name: str) -> None:
    if x.ndim != 4:
        raise ValueError(f"{name} expects NCHW input, got shape {x.shape}")


def _windows(
    x: np.ndarray,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> np.ndarray:
    """Strided view ``(N, C, Ho, Wo, kh, kw)`` of all (already padded) windows; no copy."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if x.shape[2] < eh or x.shape[3] < ew:
        raise ValueError(
            f"kernel (effective {eh}x{ew}) larger than padded input {x.shape[2]}x{x.shape[3]}"
        )
    view = sliding_window_view(x, (eh, ew), axis=(2, 3))
    return view[:, :, ::sh, ::sw, ::dh, ::dw]


def _pad_hw(x: np.ndarray, padding: tuple[int, int], value: float = 0.0) -> np.ndarray:
    """Constant-pad the two spatial axes of an NCHW array."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _check_positive(**kwargs: tuple[int, int]) -> None:
    for name, (a, b) in kwargs.items():
        if a <= 0 or b <= 0:
            raise ValueError(f"{name} must be positive, got {(a, b)}")


# --------------------------------------------------------------------------
# Convolution and linear
# --------------------------------------------------------------------------


def conv2d(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: IntPair = 1,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> np.ndarray:
    """2-D cross-correlation like ``torch.nn.functional.conv2d``.

    im2col: gather windows with a strided view, copy them once into a
    contiguous ``(G, K, N*Ho*Wo)`` matrix and do one batched matmul per call,
    which is far faster than looping over kernel offsets in numpy.
    """
    x = _as_float(x)
    _check_4d(x, "conv2d")
    weight = np.asarray(weight, dtype=x.dtype)
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    dil = pair(dilation)
    _check_positive(stride=(sh, sw), dilation=dil)
    if ph < 0 or pw < 0:
        raise ValueError(f"padding must be non-negative, got {(ph, pw)}")
    n, c_in, _, _ = x.shape
    c_out, c_per_group, kh, kw = weight.shape
    if groups <= 0 or c_in % groups or c_out % groups:
        raise ValueError(f"channels ({c_in} in, {c_out} out) not divisible by groups={groups}")
    if c_in // groups != c_per_group:
        raise ValueError(
            f"weight expects {c_per_group * groups} input channels, input has {c_in}"
        )

    win = _windows(_pad_hw(x, (ph, pw)), (kh, kw), (sh, sw), dil)
    ho, wo = win.shape[2], win.shape[3]
    k = c_per_group * kh * kw
    # (N, G, Cg, Ho, Wo, kh, kw) -> (G, Cg, kh, kw, N, Ho, Wo): K rows, pixel columns.
    win = win.reshape(n, groups, c_per_group, ho, wo, kh, kw)
    cols = np.ascontiguousarray(win.transpose(1, 2, 5, 6, 0, 3, 4)).reshape(groups, k, -1)
    w = weight.reshape(groups, c_out // groups, k)
    out = np.matmul(w, cols)  # (G, Cout/G, N*Ho*Wo)
    out = out.reshape(c_out, n, ho, wo).transpose(1, 0, 2, 3)
    if bias is not None:
        out = out + np.asarray(bias, dtype=x.dtype).reshape(1, c_out, 1, 1)
    return np.ascontiguousarray(out)


def linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """``x @ weight.T + bias`` with weight shaped ``(out, in)`` like torch."""
    x = _as_float(x)
    out = x @ np.asarray(weight, dtype=x.dtype).T
    if bias is not None:
        out = out + np.asarray(bias, dtype=x.dtype)
    return out


def flatten(x: np.ndarray, start_dim: int = 1) -> np.ndarray:
    """Collapse all axes from ``start_dim`` on (torch.flatten(x, 1) by default)."""
    x = np.asarray(x)
    start = start_dim % x.ndim if x.ndim else 0
    return x.reshape(*x.shape[:start], -1)


# --------------------------------------------------------------------------
# Normalisation and regularisation
# --------------------------------------------------------------------------


def batch_norm(
    x: np.ndarray,
    running_mean: np.ndarray | None,
    running_var: np.ndarray | None,
    weight: np.ndarray | None = None,
    bias: np.ndarray | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> np.ndarray:
    """Batch normalisation over every axis except channels (axis 1), like torch.

    Training normalises with the biased batch variance and updates the running
    buffers in place with the *unbiased* variance:
    ``running = (1 - momentum) * running + momentum * batch``.
    Eval uses the running buffers.
    """
    x = _as_float(x)
    if x.ndim < 2:
        raise ValueError(f"batch_norm expects (N, C, ...) input, got shape {x.shape}")
    c = x.shape[1]
    axes = (0, *range(2, x.ndim))
    shape = (1, c) + (1,) * (x.ndim - 2)

    if training:
        count = x.size // c
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got {x.shape}")
        mean = x.mean(axis=axes, dtype=np.float64)
        var = x.var(axis=axes, dtype=np.float64)
        _update_running(running_mean, mean, momentum)
        _update_running(running_var, var * count / (count - 1), momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("running_mean and running_var are required when training=False")
        mean, var = np.asarray(running_mean), np.asarray(running_var)

    scale = 1.0 / np.sqrt(np.asarray(var, dtype=np.float64) + eps)
    shift = -np.asarray(mean, dtype=np.float64) * scale
    if weight is not None:
        w = np.asarray(weight, dtype=np.float64)
        scale, shift = scale * w, shift * w
    if bias is not None:
        shift = shift + np.asarray(bias, dtype=np.float64)
    return x * scale.astype(x.dtype).reshape(shape) + shift.astype(x.dtype).reshape(shape)


def _update_running(buf: np.ndarray | None, batch_stat: np.ndarray, momentum: float) -> None:
    """Exponential moving average, written into ``buf`` in place (no-op for None)."""
    if buf is None:
        return
    buf *= 1.0 - momentum
    buf += (momentum * batch_stat).astype(buf.dtype)


def dropout(
    x: np.ndarray,
    p: float = 0.5,
    training: bool = False,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Inverted dropout: zero with prob ``p`` and scale survivors by ``1/(1-p)``; identity in eval."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    x = _as_float(x)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return np.zeros_like(x)
    rng = np.random.default_rng() if rng is None else rng
    keep = rng.random(x.shape) >= p
    return x * keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))


# --------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------


def relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0); NaN propagates as in torch."""
    x = _as_float(x)
    return np.maximum(x, x.dtype.type(0))


def leaky_relu(x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """x for x > 0 else ``negative_slope * x``."""
    x = _as_float(x)
    return np.where(x > 0, x, x * x.dtype.type(negative_slope))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function via ``exp(-|x|)`` so it never overflows."""
    x = _as_float(x)
    e = np.exp(-np.abs(x))
    one = x.dtype.type(1)
    return np.where(x >= 0, one / (one + e), e / (one + e))


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent."""
    return np.tanh(_as_float(x))


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis``, shifted by the max for numerical stability."""
    x = _as_float(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# --------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------


def _pool_args(
    kernel_size: IntPair, stride: IntPair | None, padding: IntPair
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Normalise pooling sizes and apply torch's ``pad <= kernel / 2`` rule."""
    k = pair(kernel_size)
    s = k if stride is None else pair(stride)
    p = pair(padding)
    _check_positive(kernel_size=k, stride=s)
    if min(p) < 0 or p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"pad should be between 0 and half of kernel size, got pad={p}, kernel={k}")
    return k, s, p


def _ceil_extra(
    size: tuple[int, int],
    k: tuple[int, int],
    s: tuple[int, int],
    p: tuple[int, int],
    d: tuple[int, int] = (1, 1),
) -> tuple[int, int]:
    """Cells to add after the right/bottom padding so ceil_mode's last window fits.

    torch rounds the output length up, except that the last window must start inside the
    input or its left padding.
    """
    extra = []
    for n, kk, ss, pp, dd in zip(size, k, s, p, d):
        span = dd * (kk - 1) + 1
        out = -(-(n + 2 * pp - span) // ss) + 1
        if (out - 1) * ss >= n + pp:
            out -= 1
        extra.append(max(0, (out - 1) * ss + span - (n + 2 * pp)))
    return extra[0], extra[1]


def _pad_extra(x: np.ndarray, extra: tuple[int, int], value: float) -> np.ndarray:
    if extra == (0, 0):
        return x
    return np.pad(x, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])), constant_values=value)


def max_pool2d(
    x: np.ndarray,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
) -> np.ndarray:
    """Max pooling; padding is ``-inf`` so it never wins, as in torch."""
    x = _as_float(x)
    _check_4d(x, "max_pool2d")
    k, s, p = _pool_args(kernel_size, stride, padding)
    d = pair(dilation)
    _check_positive(dilation=d)
    padded = _pad_hw(x, p, -np.inf)
    if ceil_mode:
        padded = _pad_extra(padded, _ceil_extra(x.shape[2:], k, s, p, d), -np.inf)
    win = _windows(padded, k, s, d)
    return win.max(axis=(4, 5))


def avg_pool2d(
    x: np.ndarray,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
    ceil_mode: bool = False,
) -> np.ndarray:
    """Average pooling; by default padded zeros count in the divisor (torch default).

    With ``ceil_mode`` the cells beyond the padding never count, as in torch.
    """
    x = _as_float(x)
    _check_4d(x, "avg_pool2d")
    k, s, p = _pool_args(kernel_size, stride, padding)
    extra = _ceil_extra(x.shape[2:], k, s, p) if ceil_mode else (0, 0)
    sums = _windows(_pad_extra(_pad_hw(x, p), extra, 0.0), k, s, (1, 1)).sum(axis=(4, 5))
    if divisor_override is not None:
        return sums / x.dtype.type(divisor_override)
    if (count_include_pad or p == (0, 0)) and extra == (0, 0):
        return sums / x.dtype.type(k[0] * k[1])
    ones = np.ones((1, 1) + x.shape[2:], dtype=x.dtype)
    counted = np.pad(ones, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])),
                     constant_values=1.0 if count_include_pad else 0.0)
    counts = _windows(_pad_extra(counted, extra, 0.0), k, s, (1, 1)).sum(axis=(4, 5))
    return sums / counts


def _adaptive_avg_last_axis(x: np.ndarray, out: int) -> np.ndarray:
    """Average the last axis into ``out`` torch bins [floor(i*n/out), ceil((i+1)*n/out)).

    Bins are gathered as ``(out, max_len)`` index windows and masked with
    ``where`` (not multiplied by zero) so inf/NaN stay inside their own bins.
    """
    n = x.shape[-1]
    i = np.arange(out)
    start = (i * n) // out
    end = -((-(i + 1) * n) // out)
    offsets = start[:, None] + np.arange(int((end - start).max()))
    mask = offsets < end[:, None]
    gathered = np.take(x, np.minimum(offsets, n - 1), axis=-1)  # (..., out, max_len)
    sums = np.where(mask, gathered, x.dtype.type(0)).sum(axis=-1)
    return sums / (end - start).astype(x.dtype)


def adaptive_avg_pool2d(
    x: np.ndarray, output_size: int | tuple[int | None, int | None]
) -> np.ndarray:
    """Adaptive average pooling with PyTorch's exact (possibly overlapping) bins.

    Vectorised per axis (width, then height) instead of looping over output
    cells.  ``None`` in ``output_size`` keeps that input dimension, as in torch.
    """
    x = _as_float(x)
    _check_4d(x, "adaptive_avg_pool2d")
    h, w = x.shape[2:]
    if isinstance(output_size, (int, np.integer)):
        oh, ow = int(output_size), int(output_size)
    else:
        oh_opt, ow_opt = tuple(output_size)
        oh = h if oh_opt is None else int(oh_opt)
        ow = w if ow_opt is None else int(ow_opt)
    if oh <= 0 or ow <= 0:
        raise ValueError(f"output size must be positive, got {(oh, ow)}")
    if h == 0 or w == 0:
        raise ValueError(f"input spatial size must be non-zero, got {(h, w)}")
    y = _adaptive_avg_last_axis(x, ow)
    y = _adaptive_avg_last_axis(y.swapaxes(2, 3), oh).swapaxes(2, 3)
    return np.ascontiguousarray(y)


def _adaptive_max_last_axis(x: np.ndarray, out: int) -> np.ndarray:
    """Max over the last axis in torch's adaptive bins (see ``_adaptive_avg_last_axis``)."""
    n = x.shape[-1]
    i = np.arange(out)
    start = (i * n) // out
    end = -((-(i + 1) * n) // out)
    offsets = start[:, None] + np.arange(int((end - start).max()))
    mask = offsets < end[:, None]
    gathered = np.take(x, np.minimum(offsets, n - 1), axis=-1)
    return np.where(mask, gathered, x.dtype.type(-np.inf)).max(axis=-1)


def adaptive_max_pool2d(x: np.ndarray, output_size: int | tuple[int, int]) -> np.ndarray:
    """Adaptive max pooling with PyTorch's bins (max is separable: width, then height)."""
    x = _as_float(x)
    _check_4d(x, "adaptive_max_pool2d")
    oh, ow = pair(output_size)
    if oh <= 0 or ow <= 0:
        raise ValueError(f"output size must be positive, got {(oh, ow)}")
    y = _adaptive_max_last_axis(x, ow)
    y = _adaptive_max_last_axis(y.swapaxes(2, 3), oh).swapaxes(2, 3)
    return np.ascontiguousarray(y)


# --------------------------------------------------------------------------
# More activations and stochastic depth
# --------------------------------------------------------------------------


def relu6(x: np.ndarray) -> np.ndarray:
    """min(max(x, 0), 6)."""
    x = _as_float(x)
    return np.minimum(np.maximum(x, x.dtype.type(0)), x.dtype.type(6))


def silu(x: np.ndarray) -> np.ndarray:
    """x · sigmoid(x) (a.k.a. swish)."""
    x = _as_float(x)
    return x * sigmoid(x)


def hardsigmoid(x: np.ndarray) -> np.ndarray:
    """relu6(x + 3) / 6."""
    x = _as_float(x)
    return relu6(x + x.dtype.type(3)) / x.dtype.type(6)


def hardswish(x: np.ndarray) -> np.ndarray:
    """x · relu6(x + 3) / 6."""
    x = _as_float(x)
    return x * hardsigmoid(x)


def erf(x: np.ndarray) -> np.ndarray:
    """Error function to ~1e-7 absolute (numpy has none): Abramowitz–Stegun 7.1.26 in float64."""
    z = np.asarray(x, dtype=np.float64)
    a = np.abs(z)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return np.sign(z) * (1.0 - poly * np.exp(-a * a))


def gelu(x: np.ndarray, approximate: str = "none") -> np.ndarray:
    """GELU like torch: exact x·Φ(x), or the tanh approximation."""
    x = _as_float(x)
    if approximate == "tanh":
        inner = np.sqrt(2.0 / np.pi) * (x + 0.044715 * x.astype(np.float64) ** 3)
        return (0.5 * x * (1.0 + np.tanh(inner))).astype(x.dtype)
    if approximate != "none":
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    return (0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))).astype(x.dtype)


def stochastic_depth(
    x: np.ndarray,
    p: float,
    mode: str = "row",
    training: bool = False,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """torchvision.ops.stochastic_depth: keep each sample ("row") or the whole batch ("batch")
    with probability 1 − p, scaled by 1/(1 − p); the identity in eval mode or when p = 0."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"drop probability must be in [0, 1], got {p}")
    if mode not in ("row", "batch"):
        raise ValueError(f"mode must be 'row' or 'batch', got {mode!r}")
    x = _as_float(x)
    if not training or p == 0.0:
        return x
    survival = 1.0 - p
    rng = np.random.default_rng() if rng is None else rng
    size = (x.shape[0],) + (1,) * (x.ndim - 1) if mode == "row" else (1,) * x.ndim
    noise = (rng.random(size) < survival).astype(x.dtype)
    if survival > 0.0:
        noise = noise / x.dtype.type(survival)
    return x * noise
