"""What every layer kind declares, and the shape helpers the kinds share.

A kind is one frozen dataclass: its JSON fields (declared with the helpers below, which
`explorer.spec` validates generically), its `type`, diagram `category`, default-name
`prefix`, short `label`, the editor's defaults for a new layer, and one method per
concern: `analyse` (shape, parameters, buffers, MACs; docs/design.md §3 conventions),
`init_params` and `run` (the numpy engine) and `torch_line` (the PyTorch constructor).
"""
from __future__ import annotations

import math
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Callable, ClassVar

import numpy as np

from ..nn.functional import conv_output_size

Pair = tuple[int, int]
Shape = tuple[int, ...]
Params = dict[str, np.ndarray]


# ---------------------------------------------------------------------------------------
# Field declarations (validated by explorer.spec)

def size_field(default: Any = MISSING, *, minimum: int = 1) -> Any:
    """A spatial size: an int or [h, w] in the JSON, a (h, w) pair in Python."""
    return field(default=default, metadata={"kind": "size", "min": minimum})


def count_field(default: Any = MISSING) -> Any:
    return field(default=default, metadata={"kind": "count"})


def number_field(default: float, low: float, high: float, *, low_open: bool = False,
                 high_open: bool = False) -> Any:
    return field(default=default, metadata={"kind": "number", "range": (low, high, low_open, high_open)})


def flag_field(default: bool = True) -> Any:
    return field(default=default, metadata={"kind": "bool"})


def choice_field(default: str, choices: tuple[str, ...]) -> Any:
    return field(default=default, metadata={"kind": "choice", "choices": choices})


# ---------------------------------------------------------------------------------------
# What analysis learns from a layer

@dataclass(frozen=True)
class Window:
    """A sliding window over the input: it grows the receptive field."""

    kernel: Pair
    stride: Pair
    padding: Pair = (0, 0)
    dilation: Pair = (1, 1)


@dataclass(frozen=True)
class Facts:
    """One layer applied to one input shape. `window` None and `flat` False: the receptive
    field is unchanged; `flat`: the output is no longer an image (receptive field None)."""

    output_shape: Shape
    op: str
    params: int = 0
    trainable: int | None = None
    buffers: int = 0
    macs: int = 0
    window: Window | None = None
    flat: bool = False
    shape_formula: str = ""
    param_formula: str = "no parameters"


@dataclass(frozen=True)
class Context:
    """The input a layer receives while being analysed; `fail` builds the error to raise."""

    shape: Shape
    source: str                                       # where the input comes from, for messages
    fail: Callable[[str, "str | None"], Exception]


# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LayerSpec:
    """Base for all layer kinds; `name` is the optional user-given name."""

    type: ClassVar[str] = ""
    category: ClassVar[str] = ""          # diagram colour group
    prefix: ClassVar[str] = ""            # default names: prefix + number (Conv1, BN1, …)
    label: ClassVar[str] = ""             # short kind label under the diagram block
    editor_defaults: ClassVar[dict[str, Any]] = {}
    name: str | None = field(default=None, kw_only=True, metadata={"kind": "name"})

    def to_json(self) -> dict[str, Any]:
        """Serialise, omitting defaults; square sizes become ints, as the seed writes them."""
        out: dict[str, Any] = {"type": self.type}
        if self.name is not None:
            out["name"] = self.name
        for f in fields(self):
            if f.name == "name":
                continue
            value = getattr(self, f.name)
            if f.default is not MISSING and value == normalise_default(f):
                continue
            if f.metadata.get("kind") == "size" and value is not None:
                value = value[0] if value[0] == value[1] else [value[0], value[1]]
            out[f.name] = value
        return out

    # -- analysis ------------------------------------------------------------------------
    def analyse(self, ctx: Context) -> Facts:
        """Output shape and counts for input `ctx.shape`; raise `ctx.fail(...)` if it does not fit."""
        return Facts(ctx.shape, op=self.label)

    def saves_output(self, before: bool) -> bool:
        """Whether the output must stay untouched (PyTorch saved it for backward, or it is the
        tensor received, `before` telling whether that one must stay untouched)."""
        return False

    # -- PyTorch ---------------------------------------------------------------------------
    def torch_line(self, in_shape: Shape, in_place_ok: bool = True) -> str:
        raise NotImplementedError(self.type)

    # -- numpy engine ------------------------------------------------------------------------
    def init_params(self, rng: np.random.Generator, in_shape: Shape) -> Params:
        """State like a fresh PyTorch module's (seeded); empty when the kind has none."""
        return {}

    def run(self, x: np.ndarray, params: Params, *, training: bool, rng: np.random.Generator | None) -> np.ndarray:
        raise NotImplementedError(self.type)


def normalise_default(f: Any) -> Any:
    if f.metadata.get("kind") == "size" and isinstance(f.default, int):
        return (f.default, f.default)
    return f.default


# ---------------------------------------------------------------------------------------
# Helpers shared by the kinds

def format_shape(shape: Shape) -> str:
    """`(64, 16, 16)`, and `(2048)` for a flat vector, as the seed writes shapes."""
    return "(" + ", ".join(str(d) for d in shape) + ")"


def cross(shape: Shape) -> str:
    return "×".join(map(str, shape))


def k_text(size: Pair) -> str:
    return f"{size[0]}×{size[1]}"


def v_text(size: Pair) -> str:
    """A size as the JSON writes it: 5, or [5, 3]."""
    return str(size[0]) if size[0] == size[1] else f"[{size[0]}, {size[1]}]"


def py_size(value: Pair) -> str:
    """A size as PyTorch code writes it: 3, or (3, 5)."""
    return str(value[0]) if value[0] == value[1] else f"({value[0]}, {value[1]})"


def py_num(value: float) -> str:
    return repr(float(value)).replace("e-0", "e-")


def need_spatial(ctx: Context, what: str) -> int:
    """The channel count of a (C, H, W) input; a clear error for a flat one."""
    if len(ctx.shape) != 3:
        raise ctx.fail(f"{what} needs a (channels, height, width) input but receives the flat vector "
                       f"{format_shape(ctx.shape)}; move it before Flatten", "type")
    return ctx.shape[0]


def window_output(ctx: Context, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
                  ceil_mode: bool = False) -> Pair:
    """Output height and width of a window sliding over the input (PyTorch's formula)."""
    shape = ctx.shape
    result = []
    for size, k, s, p, d in zip(shape[1:], kernel, stride, padding, dilation):
        span = d * (k - 1) + 1
        n = conv_output_size(size, k, s, p, d)
        if n < 1:
            need = (span - size + 1) // 2
            dil = f", dilation {d}" if d != 1 else ""
            raise ctx.fail(f"kernel_size {v_text(kernel)}{dil} does not fit a {shape[1]}×{shape[2]} input "
                           f"(padding {v_text(padding)}); use kernel_size ≤ {max((size + 2 * p - 1) // d + 1, 1)} "
                           f"or padding ≥ {need}", "kernel_size")
        if ceil_mode:
            n = ceil_output_size(size, k, s, p, d)
        result.append(n)
    return result[0], result[1]


def ceil_output_size(size: int, k: int, s: int, p: int, d: int = 1) -> int:
    """PyTorch's ceil_mode length: round up, but the last window must start inside the input
    or its left padding."""
    n = -(-(size + 2 * p - d * (k - 1) - 1) // s) + 1
    if (n - 1) * s >= size + p:
        n -= 1
    return n


def shape_formula(shape: Shape, out: Shape, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
                  ceil_mode: bool = False) -> str:
    """`⌊(32 + 2·1 − 3)/1⌋ + 1 = 32`, once when both axes agree, else per axis."""
    parts = []
    lo, hi = ("⌈", "⌉") if ceil_mode else ("⌊", "⌋")
    for size, k, s, p, d, n in zip(shape[1:], kernel, stride, padding, dilation, out[1:]):
        span = f"{k}" if d == 1 else f"{d}·({k} − 1) − 1"
        parts.append(f"{lo}({size} + 2·{p} − {span})/{s}{hi} + 1 = {n}")
    if parts[0] == parts[1]:
        return f"{parts[0]} (height and width)"
    return f"height: {parts[0]}; width: {parts[1]}"


def adaptive_kernel(size: int, out: int) -> int:
    """The widest bin of PyTorch's adaptive pooling along one axis."""
    return max(math.ceil((i + 1) * size / out) - (i * size) // out for i in range(out))
