"""Hypothesis strategies for graph architectures (blocks and parallels; docs/design.md).

`graph_architectures()` draws networks that are valid by construction: it tracks the
shape through every node and only draws merges whose branches fit together: residual
add with an identity or a 1×1-conv + BN projection shortcut, channel concat of 2–3
branches, squeeze-and-excitation multiply (C×1×1 gate), blocks nested up to `max_depth`.
Every node is named by its module path, the way an imported torchvision network is
(`b1.0.conv` inside block `b1.0`; a parallel's name follows its owner's children), so a
PyTorch model can be built from the JSON with the same state_dict keys.
"""
from __future__ import annotations

import itertools
import math

from hypothesis import strategies as st

Shape = tuple[int, ...]

POINTWISE = ("relu", "relu6", "silu", "hardswish", "hardsigmoid", "gelu", "leaky_relu", "sigmoid", "tanh",
             "identity", "dropout", "stochastic_depth", "batchnorm2d")


class Owner:
    """Hands out child keys of one module (a block, or the network itself)."""

    def __init__(self, name: str | None, numeric: bool) -> None:
        self.name, self.numeric, self.count = name, numeric, itertools.count()

    def child(self, stem: str) -> str:
        i = next(self.count)
        key = str(i) if self.numeric else f"{stem}{i}"
        return f"{self.name}.{key}" if self.name else key


def _pointwise(draw, kind: str, shape: Shape) -> dict:
    if kind == "gelu":
        return {"type": kind, **({"approximate": "tanh"} if draw(st.booleans()) else {})}
    if kind == "leaky_relu":
        return {"type": kind, "negative_slope": draw(st.sampled_from([0.01, 0.2, -0.3]))}
    if kind == "dropout":
        return {"type": kind, "p": draw(st.sampled_from([0.0, 0.3]))}
    if kind == "stochastic_depth":
        return {"type": kind, "p": draw(st.sampled_from([0.0, 0.2])), "mode": draw(st.sampled_from(["row", "batch"]))}
    if kind == "batchnorm2d":
        layer: dict = {"type": kind}
        if draw(st.integers(0, 3)) == 0:
            layer["affine"] = False
        if draw(st.integers(0, 4)) == 0:
            layer["track_running_stats"] = False
        if draw(st.booleans()):
            layer["eps"] = 1e-3
        if draw(st.booleans()):
            layer["momentum"] = 0.5
        return layer
    return {"type": kind}


def _conv(draw, shape: Shape, *, out: int | None = None, kernel: int | None = None, stride: int = 1,
          same: bool = False) -> tuple[dict, Shape]:
    c, h, w = shape
    k = kernel if kernel is not None else draw(st.sampled_from([1, 3]))
    k = min(k, 2 * (min(h, w) // 2) + 1) if same else min(k, h, w)
    pad = k // 2 if same or draw(st.booleans()) else 0
    out = out if out is not None else draw(st.integers(1, 6))
    groups = draw(st.sampled_from([g for g in (1, 2) if c % g == 0 and out % g == 0]))
    layer = {"type": "conv2d", "out_channels": out, "kernel_size": k}
    if stride != 1:
        layer["stride"] = stride
    if pad:
        layer["padding"] = pad
    if groups != 1:
        layer["groups"] = groups
    if draw(st.booleans()):
        layer["bias"] = False
    oh, ow = ((size + 2 * pad - k) // stride + 1 for size in (h, w))
    return layer, (out, oh, ow)


def _pool(draw, shape: Shape) -> tuple[dict, Shape]:
    c, h, w = shape
    kind = draw(st.sampled_from(["maxpool2d", "avgpool2d", "adaptive_avgpool2d", "adaptive_maxpool2d"]))
    if kind.startswith("adaptive"):
        size = (draw(st.integers(1, min(h, 3))), draw(st.integers(1, min(w, 3))))
        return {"type": kind, "output_size": [size[0], size[1]]}, (c, *size)
    k = min(draw(st.integers(1, 3)), h, w)
    p = draw(st.integers(0, k // 2))
    s = draw(st.integers(1, 2))
    ceil = draw(st.booleans())
    layer: dict = {"type": kind, "kernel_size": k, "stride": s}
    if p:
        layer["padding"] = p
    if ceil:
        layer["ceil_mode"] = True
    if kind == "avgpool2d" and draw(st.booleans()):
        layer["count_include_pad"] = False
    out = []
    for n in (h, w):
        if ceil:
            o = -(-(n + 2 * p - k) // s) + 1
            if (o - 1) * s >= n + p:
                o -= 1
        else:
            o = (n + 2 * p - k) // s + 1
        out.append(o)
    return layer, (c, *out)


def _sequence(draw, shape: Shape, owner: Owner, depth: int, max_depth: int, length: int) -> tuple[list, Shape]:
    nodes: list[dict] = []
    for _ in range(length):
        choices = ["conv", "pointwise", "pool"] + (["block", "residual", "concat", "se"] if depth < max_depth else [])
        what = draw(st.sampled_from(choices))
        if what == "conv":
            node, shape = _conv(draw, shape)
        elif what == "pointwise":
            node = _pointwise(draw, draw(st.sampled_from(POINTWISE)), shape)
        elif what == "pool":
            node, shape = _pool(draw, shape)
        elif what == "block":
            node, shape = _block(draw, shape, owner, depth, max_depth)
            nodes.append(node)
            continue
        elif what == "residual":
            node, shape = _residual(draw, shape, owner, depth, max_depth)
        elif what == "concat":
            node, shape = _concat(draw, shape, owner, depth, max_depth)
        else:
            node, shape = _se(draw, shape, owner)
        if "name" not in node:
            node["name"] = owner.child(node["type"][:4])
        nodes.append(node)
    return nodes, shape


def _block(draw, shape: Shape, owner: Owner, depth: int, max_depth: int) -> tuple[dict, Shape]:
    numeric = draw(st.booleans())
    name = owner.child("blk")
    inner = Owner(name, numeric)
    layers, shape = _sequence(draw, shape, inner, depth + 1, max_depth, draw(st.integers(1, 3)))
    node = {"type": "block", "name": name, "layers": layers}
    if not numeric or draw(st.booleans()):
        node["module"] = draw(st.sampled_from(["Unit", "Stage"]))
    return node, shape


def _residual(draw, shape: Shape, owner: Owner, depth: int, max_depth: int) -> tuple[dict, Shape]:
    """body ‖ shortcut, added: the body may change channels/stride; then the shortcut projects."""
    c, h, w = shape
    stride = draw(st.sampled_from([1, 2])) if min(h, w) >= 2 else 1
    out = draw(st.sampled_from([c, c + 1]))
    first, mid = _conv(draw, shape, out=out, kernel=3, stride=stride, same=True)
    first["name"] = owner.child("conv")
    body = [first]
    rest, end = _sequence(draw, mid, owner, depth + 1, max_depth, draw(st.integers(0, 2)))
    # keep the body's shape: only shape-preserving nodes after the first conv
    body += [n for n in rest if _keeps(n)] if end != mid else rest
    if stride == 1 and out == c:
        shortcut: list = [] if draw(st.booleans()) else [_projection(draw, owner, c, 1)]
    else:
        shortcut = [_projection(draw, owner, out, stride)]
    node = {"type": "parallel", "name": owner.child("add"), "merge": "add", "branches": [body, shortcut]}
    if draw(st.booleans()):
        node["branches"] = [shortcut, body]
    return node, mid


def _keeps(node: dict) -> bool:
    return node["type"] in POINTWISE


def _projection(draw, owner: Owner, out: int, stride: int) -> dict:
    name = owner.child("down")
    conv = {"type": "conv2d", "name": f"{name}.0", "out_channels": out, "kernel_size": 1, "bias": False}
    if stride != 1:
        conv["stride"] = stride
    return {"type": "block", "name": name, "layers": [conv, {"type": "batchnorm2d", "name": f"{name}.1"}]}


def _concat(draw, shape: Shape, owner: Owner, depth: int, max_depth: int) -> tuple[dict, Shape]:
    branches, channels = [], 0
    for _ in range(draw(st.integers(2, 3))):
        if draw(st.integers(0, 3)) == 0:
            branches.append([])
            channels += shape[0]
            continue
        conv, out = _conv(draw, shape, kernel=draw(st.sampled_from([1, 3])), same=True)
        conv["name"] = owner.child("conv")
        branch = [conv]
        if draw(st.booleans()):
            branch.append({"type": "relu", "name": owner.child("relu")})
        branches.append(branch)
        channels += out[0]
    return ({"type": "parallel", "name": owner.child("cat"), "merge": "concat", "branches": branches},
            (channels, *shape[1:]))


def _se(draw, shape: Shape, owner: Owner) -> tuple[dict, Shape]:
    c = shape[0]
    squeeze = draw(st.integers(1, 4))
    gate = [{"type": "adaptive_avgpool2d", "name": owner.child("pool"), "output_size": 1},
            {"type": "conv2d", "name": owner.child("fc"), "out_channels": squeeze, "kernel_size": 1},
            {"type": "relu", "name": owner.child("act")},
            {"type": "conv2d", "name": owner.child("fc"), "out_channels": c, "kernel_size": 1},
            {"type": draw(st.sampled_from(["sigmoid", "hardsigmoid"])), "name": owner.child("gate")}]
    branches = [[], gate] if draw(st.booleans()) else [gate, []]
    return {"type": "parallel", "name": owner.child("mul"), "merge": "multiply", "branches": branches}, shape


@st.composite
def graph_architectures(draw, *, max_depth: int = 3, max_hw: int = 9, head: bool | None = None) -> dict:
    """A random valid graph architecture (JSON dict) with small sizes, nesting ≤ `max_depth`."""
    c, h, w = draw(st.integers(1, 4)), draw(st.integers(3, max_hw)), draw(st.integers(3, max_hw))
    top = Owner(None, False)
    layers, shape = _sequence(draw, (c, h, w), top, 0, max_depth, draw(st.integers(1, 4)))
    if head if head is not None else draw(st.booleans()):
        layers.append({"type": "flatten", "name": top.child("flat")})
        layers.append({"type": "linear", "name": top.child("fc"), "out_features": draw(st.integers(1, 5))})
        shape = (layers[-1]["out_features"],)
    assert math.prod(shape) > 0
    return {"name": "Random graph", "input": {"channels": c, "height": h, "width": w}, "layers": layers}
