"""Ready-made graph pieces the editor inserts, sized to the shape that arrives (docs/design.md §7).

Each template keeps the arriving C×H×W shape (stride 1, "same" padding), so inserting one
after any feature map gives a valid network; the student then edits its layers. (The
Inception-style module needs one channel per branch: with fewer than 4 channels arriving it
gives 4; the next layers infer their input sizes, so the network stays valid.)
"""
from __future__ import annotations

from typing import Any, Callable

from .spec import ArchitectureError

Json = dict[str, Any]
Shape = tuple[int, ...]


def _conv(c: int, k: int, **kw: Any) -> Json:
    return {"type": "conv2d", "out_channels": c, "kernel_size": k, "padding": k // 2, "bias": False, **kw}


_BN, _RELU = {"type": "batchnorm2d"}, {"type": "relu"}


def residual_basic(c: int) -> Json:
    """ResNet's BasicBlock: two 3×3 convolutions plus the identity shortcut."""
    body = [_conv(c, 3), dict(_BN), dict(_RELU), _conv(c, 3), dict(_BN)]
    return {"type": "block", "module": "BasicBlock",
            "layers": [{"type": "parallel", "merge": "add", "branches": [body, []]}, dict(_RELU)]}


def residual_bottleneck(c: int) -> Json:
    """ResNet's Bottleneck: 1×1 down to c/4, 3×3, 1×1 back up to c, plus the identity."""
    width = max(1, c // 4)
    body = [_conv(width, 1), dict(_BN), dict(_RELU), _conv(width, 3), dict(_BN), dict(_RELU), _conv(c, 1),
            dict(_BN)]
    return {"type": "block", "module": "Bottleneck",
            "layers": [{"type": "parallel", "merge": "add", "branches": [body, []]}, dict(_RELU)]}


def inception(c: int) -> Json:
    """Four branches (1×1; 1×1→3×3; 1×1→5×5; 3×3 max-pool→1×1) concatenated: max(c, 4) channels out."""
    q = max(1, c // 4)
    last = max(1, c - 3 * q)
    branches = [[_conv(q, 1, bias=True), dict(_RELU)],
                [_conv(max(1, q // 2), 1, bias=True), dict(_RELU), _conv(q, 3, bias=True), dict(_RELU)],
                [_conv(max(1, q // 4), 1, bias=True), dict(_RELU), _conv(q, 5, bias=True), dict(_RELU)],
                [{"type": "maxpool2d", "kernel_size": 3, "stride": 1, "padding": 1},
                 _conv(last, 1, bias=True), dict(_RELU)]]
    return {"type": "block", "module": "InceptionModule",
            "layers": [{"type": "parallel", "merge": "concat", "branches": branches}]}


def se_gate(c: int) -> Json:
    """Squeeze-and-excitation: global pool, squeeze to c/4, expand to c, sigmoid; times the input."""
    squeeze = max(1, c // 4)
    gate = [{"type": "adaptive_avgpool2d", "output_size": 1}, _conv(squeeze, 1, bias=True), dict(_RELU),
            _conv(c, 1, bias=True), {"type": "sigmoid"}]
    return {"type": "block", "module": "SqueezeExcitation",
            "layers": [{"type": "parallel", "merge": "multiply", "branches": [gate, []]}]}


def depthwise_separable(c: int) -> Json:
    """A 3×3 depthwise convolution (groups = channels) then a 1×1 pointwise one."""
    return {"type": "block", "module": "DepthwiseSeparable",
            "layers": [_conv(c, 3, groups=c), dict(_BN), dict(_RELU), _conv(c, 1), dict(_BN), dict(_RELU)]}


PIECES: dict[str, Callable[[int], Json]] = {
    "Residual block (basic)": residual_basic,
    "Residual block (bottleneck)": residual_bottleneck,
    "Inception-style module": inception,
    "Squeeze-and-excitation gate": se_gate,
    "Depthwise-separable pair": depthwise_separable,
}


def piece(kind: str, arriving: Shape, after: str = "the selected layer") -> Json:
    """The template `kind` for a C×H×W map arriving after `after`; a flat arrival is refused."""
    if kind not in PIECES:
        raise ArchitectureError(f"unknown piece {kind!r}; choose one of: {', '.join(PIECES)}")
    if len(arriving) != 3:
        raise ArchitectureError(f"a {kind.lower()} needs a C×H×W feature map, but {after} gives "
                                f"{len(arriving)}-D values; select a layer before Flatten/Linear")
    return PIECES[kind](arriving[0])
