"""Hypothesis strategies shared by the unit tests: architecture JSON (docs/design.md §2).

`valid_architectures()` builds networks layer by layer while tracking the shape, so every
drawn network is valid by construction (each kernel fits, groups divide, pooling padding
≤ kernel/2, Linear only after Flatten, stated input sizes equal what arrives).
`field_valid_architectures()` draws layers whose fields are individually valid but which
need not fit together: what `explorer.spec` alone accepts and must round-trip.
"""
from __future__ import annotations

import math

from hypothesis import strategies as st

from explorer.text import unsafe_char

SPATIAL_KINDS = ("conv2d", "conv2d", "conv2d", "batchnorm2d", "relu", "leaky_relu", "sigmoid", "tanh",
                 "maxpool2d", "avgpool2d", "adaptive_avgpool2d", "dropout")
DENSE_KINDS = ("linear", "linear", "linear", "relu", "leaky_relu", "sigmoid", "tanh", "dropout", "flatten")


def _json_size(draw, pair: tuple[int, int]):
    """A size as the JSON may write it: an int when square (sometimes [n, n] anyway), else [h, w]."""
    if pair[0] == pair[1] and draw(st.booleans()):
        return pair[0]
    return [pair[0], pair[1]]


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _activation(draw, kind: str) -> dict:
    if kind == "leaky_relu":
        slope = draw(st.sampled_from([None, 0.01, 0.2, 0.0, -0.3, 1.5]))
        return {"type": kind} if slope is None else {"type": kind, "negative_slope": slope}
    if kind == "dropout":
        p = draw(st.sampled_from([None, 0.0, 0.25, 0.9]))
        return {"type": kind} if p is None else {"type": kind, "p": p}
    return {"type": kind}


def _spatial_layer(draw, kind: str, shape: tuple[int, int, int], *, max_kernel: int, max_channels: int):
    """One layer that fits `shape` (C, H, W); returns (layer JSON, output shape)."""
    c, h, w = shape
    if kind == "conv2d":
        padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
        dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
        kernel = tuple(draw(st.integers(1, max(1, min(max_kernel, (size + 2 * p - 1) // d + 1))))
                       for size, p, d in zip((h, w), padding, dilation))
        stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        out_channels = draw(st.integers(1, max_channels))
        groups = draw(st.sampled_from(_divisors(math.gcd(c, out_channels))))
        layer = {"type": "conv2d", "out_channels": out_channels, "kernel_size": _json_size(draw, kernel)}
        if stride != (1, 1) or draw(st.booleans()):
            layer["stride"] = _json_size(draw, stride)
        if padding != (0, 0) or draw(st.booleans()):
            layer["padding"] = _json_size(draw, padding)
        if dilation != (1, 1):
            layer["dilation"] = _json_size(draw, dilation)
        if groups != 1:
            layer["groups"] = groups
        if not draw(st.booleans()):
            layer["bias"] = False
        if draw(st.integers(0, 3)) == 0:
            layer["in_channels"] = c
        out = tuple((size + 2 * p - d * (k - 1) - 1) // s + 1
                    for size, k, s, p, d in zip((h, w), kernel, stride, padding, dilation))
        return layer, (out_channels, *out)
    if kind == "batchnorm2d":
        layer = {"type": "batchnorm2d"}
        eps = draw(st.sampled_from([None, 1e-3, 0.1]))
        momentum = draw(st.sampled_from([None, 0.0, 0.5, 1.0]))
        if eps is not None:
            layer["eps"] = eps
        if momentum is not None:
            layer["momentum"] = momentum
        if not draw(st.booleans()):
            layer["affine"] = False
        if draw(st.integers(0, 3)) == 0:
            layer["num_features"] = c
        return layer, shape
    if kind in ("maxpool2d", "avgpool2d"):
        kernel, padding = [], []
        for size in (h, w):
            k = draw(st.integers(1, 3))
            p = draw(st.integers(0, k // 2))
            k = min(k, size + 2 * p)  # keeps p ≤ k // 2, since size ≥ 1
            kernel.append(k)
            padding.append(p)
        stride = draw(st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3)))
        layer = {"type": kind, "kernel_size": _json_size(draw, tuple(kernel))}
        if stride is not None:
            layer["stride"] = _json_size(draw, stride)
        if padding != [0, 0]:
            layer["padding"] = _json_size(draw, tuple(padding))
        s = stride or kernel
        out = tuple((size + 2 * p - k) // st_ + 1 for size, k, p, st_ in zip((h, w), kernel, padding, s))
        return layer, (c, *out)
    if kind == "adaptive_avgpool2d":
        out = (draw(st.integers(1, min(h + 1, 5))), draw(st.integers(1, min(w + 1, 5))))
        return {"type": kind, "output_size": _json_size(draw, out)}, (c, *out)
    return _activation(draw, kind), shape


@st.composite
def valid_architectures(draw, *, max_hw: int = 10, max_channels: int = 4, max_spatial: int = 6,
                        max_dense: int = 4, max_kernel: int = 4, max_width: int = 8) -> dict:
    """A random valid §2 architecture (JSON dict) with small sizes."""
    c, h, w = draw(st.integers(1, max_channels)), draw(st.integers(1, max_hw)), draw(st.integers(1, max_hw))
    shape: tuple[int, ...] = (c, h, w)
    layers: list[dict] = []
    for _ in range(draw(st.integers(0, max_spatial))):
        kind = draw(st.sampled_from(SPATIAL_KINDS))
        layer, shape = _spatial_layer(draw, kind, shape, max_kernel=max_kernel, max_channels=2 * max_channels)
        layers.append(layer)
    if not layers or draw(st.integers(0, 3)) > 0:
        layers.append({"type": "flatten"})
        shape = (math.prod(shape),)
        for _ in range(draw(st.integers(0, max_dense))):
            kind = draw(st.sampled_from(DENSE_KINDS))
            if kind == "linear":
                out = draw(st.integers(1, max_width))
                layer = {"type": "linear", "out_features": out}
                if not draw(st.booleans()):
                    layer["bias"] = False
                if draw(st.integers(0, 3)) == 0:
                    layer["in_features"] = shape[0]
                shape = (out,)
            elif kind == "flatten":
                layer = {"type": "flatten"}
            else:
                layer = _activation(draw, kind)
            layers.append(layer)
    return {"name": "Random CNN", "input": {"channels": c, "height": h, "width": w}, "layers": layers}


# ---------------------------------------------------------------------------------------
# Field-valid (but not necessarily shape-valid) specs, for parse/serialise round trips

# Control and bidirectional-formatting characters are refused in names (explorer.text).
names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).map(str.strip).filter(
    lambda s: s and s != "Input" and unsafe_char(s) is None)
sizes = st.integers(1, 100_000)
small_sizes = st.integers(1, 9)
size_json = small_sizes | st.lists(small_sizes, min_size=2, max_size=2)
padding_json = st.integers(0, 9) | st.lists(st.integers(0, 9), min_size=2, max_size=2)
unit = st.floats(0.0, 1.0, allow_nan=False)

_OPTIONAL = {
    "conv2d": {"stride": size_json, "padding": padding_json, "dilation": size_json, "groups": small_sizes,
               "bias": st.booleans(), "in_channels": sizes},
    "batchnorm2d": {"eps": st.floats(1e-12, 1.0), "momentum": unit, "affine": st.booleans(),
                    "num_features": sizes},
    "relu": {}, "sigmoid": {}, "tanh": {}, "flatten": {},
    "leaky_relu": {"negative_slope": st.floats(-1e6, 1e6)},
    "maxpool2d": {"stride": size_json | st.none(), "padding": padding_json},
    "avgpool2d": {"stride": size_json | st.none(), "padding": padding_json},
    "adaptive_avgpool2d": {},
    "dropout": {"p": st.floats(0.0, 1.0, exclude_max=True)},
    "linear": {"bias": st.booleans(), "in_features": sizes},
}
_REQUIRED = {"conv2d": {"out_channels": sizes, "kernel_size": size_json},
             "maxpool2d": {"kernel_size": size_json}, "avgpool2d": {"kernel_size": size_json},
             "adaptive_avgpool2d": {"output_size": size_json}, "linear": {"out_features": sizes}}


@st.composite
def field_valid_layers(draw) -> dict:
    kind = draw(st.sampled_from(sorted(_OPTIONAL)))
    layer = {"type": kind}
    for key, strategy in _REQUIRED.get(kind, {}).items():
        layer[key] = draw(strategy)
    for key, strategy in _OPTIONAL[kind].items():
        if draw(st.booleans()):
            layer[key] = draw(strategy)
    return layer


@st.composite
def field_valid_architectures(draw) -> dict:
    layers = draw(st.lists(field_valid_layers(), min_size=1, max_size=8))
    used: set[str] = set()
    for layer in layers:
        if draw(st.integers(0, 2)) == 0:
            name = draw(names)
            if name not in used:
                used.add(name)
                layer["name"] = name
    arch = {"input": {"channels": draw(sizes), "height": draw(sizes), "width": draw(sizes)}, "layers": layers}
    if draw(st.booleans()):
        arch["name"] = draw(names)
    return arch
