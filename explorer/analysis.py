"""Per-node analysis: shapes, parameters, buffers, MACs, memory, receptive field, formulas.

One `LayerRecord` per row of the statistics table: Input first, then every node of the
network in walk order (a block's row before its contents; a parallel's merge row after its
branches' rows; docs/design.md §7). Conventions follow docs/design.md §4: `params` as `module.parameters()`
counts them, BatchNorm running statistics as `buffers`, MACs as torchinfo 1.8 counts them.
Blocks and merges hold nothing themselves (their `params`, `buffers` and `macs` are 0, as
the merge operations are in torchinfo); their `subtotal` sums their contents. So the
network totals are sums over all rows, as for a flat network.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ArchitectureError
from .layers import KINDS, Context, Facts, LayerSpec, Window
from .layers.base import cross as _cross
from .layers.base import format_shape
from .spec import Block, Layer, Network, Node, Parallel, iter_nodes

MAX_ACTIVATION = 2**31               # values in one layer's output
MAX_TOTAL_ACTIVATION_BYTES = 2**31   # float32 outputs of all layers together, one image (2 GiB)
BYTES_PER_VALUE = 4  # float32

Shape = tuple[int, ...]

# What the diagram groups a row under (colour + legend), and its short kind label.
CATEGORY = {"input": "input", **{cls.type: cls.category for cls in KINDS}, "block": "block",
            "parallel": "merge"}
KIND_LABEL = {"input": "Input", **{cls.type: cls.label for cls in KINDS}, "block": "Block",
              "parallel": "Merge"}
MERGE_OP = {"add": "+", "concat": "concat", "multiply": "×"}


@dataclass(frozen=True)
class Subtotal:
    """What a block or a parallel contains (its leaves), summed."""

    params: int
    trainable_params: int
    buffers: int
    macs: int
    activation_bytes: int
    layers: int


@dataclass(frozen=True)
class LayerRecord:
    """Everything the views and the CLI show about one row (layer, block or merge)."""

    index: int
    name: str
    type: str
    category: str
    op: str                      # short operation label for the diagram, e.g. "3×3, 32"
    input_shape: Shape | None
    output_shape: Shape
    params: int
    trainable_params: int
    buffers: int
    macs: int
    activation_bytes: int
    receptive_field: tuple[int, int] | None
    jump: tuple[int, int] | None  # distance on the input between neighbouring outputs
    start: tuple[float, float] | None  # input-pixel coordinates of output pixel (0, 0)'s centre
    pytorch: str
    shape_formula: str
    param_formula: str
    layer: Node | None           # None for the Input row
    path: tuple[str, ...] = ()   # names of the enclosing blocks/parallels, outermost first
    branch: int | None = None    # which branch of the innermost enclosing parallel (0-based)
    subtotal: Subtotal | None = None  # blocks and merges: their contents summed

    @property
    def depth(self) -> int:
        return len(self.path)

    @property
    def parent(self) -> str | None:
        return self.path[-1] if self.path else None

    @property
    def is_leaf(self) -> bool:
        return isinstance(self.layer, LayerSpec)

    @property
    def shape_text(self) -> str:
        return format_shape(self.output_shape)

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "name": self.name, "type": self.type,
                "output_shape": list(self.output_shape), "params": self.params,
                "trainable_params": self.trainable_params, "buffers": self.buffers, "macs": self.macs,
                "activation_bytes": self.activation_bytes,
                "receptive_field": list(self.receptive_field) if self.receptive_field else None,
                "pytorch": self.pytorch}


@dataclass(frozen=True)
class Analysis:
    """A validated network and one record per node, in walk order (what every view reads)."""
    network: Network
    records: tuple[LayerRecord, ...]

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.records)

    @property
    def trainable_params(self) -> int:
        return sum(r.trainable_params for r in self.records)

    @property
    def total_buffers(self) -> int:
        return sum(r.buffers for r in self.records)

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.records)

    @property
    def total_activation_bytes(self) -> int:
        return sum(r.activation_bytes for r in self.records)

    @property
    def output_shape(self) -> Shape:
        """The network's output: that of the last top-level node."""
        return next(r for r in reversed(self.records) if not r.path).output_shape

    @property
    def leaves(self) -> tuple[LayerRecord, ...]:
        """The layer rows (no Input, blocks or merges), in execution order."""
        return tuple(r for r in self.records if r.is_leaf)

    def record(self, name: str) -> LayerRecord:
        for r in self.records:
            if r.name == name:
                return r
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        """The summary JSON (docs/design.md §3), with the graph fields: per row the innermost
        enclosing `block` (null at the top), the `path` of enclosing nodes and the `depth`;
        blocks and merges also carry their `subtotal`."""
        blocks = {r.name for r in self.records if r.type == "block"}
        rows = []
        for r in self.records:
            row = r.to_json()
            row["block"] = next((name for name in reversed(r.path) if name in blocks), None)
            row["path"] = list(r.path)
            row["depth"] = r.depth
            if r.subtotal is not None:
                t = r.subtotal
                row["subtotal"] = {"params": t.params, "trainable_params": t.trainable_params,
                                   "buffers": t.buffers, "macs": t.macs, "activation_bytes": t.activation_bytes}
            rows.append(row)
        return {"name": self.network.name, "input_shape": list(self.network.input.shape),
                "output_shape": list(self.output_shape), "layers": rows, "total_params": self.total_params,
                "trainable_params": self.trainable_params, "total_macs": self.total_macs}


# ---------------------------------------------------------------------------------------

@dataclass
class _Trace:
    """What flows between nodes while walking the network."""

    shape: Shape
    rf: tuple[int, int] | None = (1, 1)
    jump: tuple[int, int] | None = (1, 1)
    start: tuple[float, float] | None = (0.0, 0.0)
    source: str = "Input"
    saved: bool = True   # the tensor must not be overwritten in place (network input, a parallel's
                         # shared input, or an output that Sigmoid/Tanh/ReLU saved for backward)


class _Walker:
    """Walks the tree once, appending one record per node in walk order."""

    def __init__(self, network: Network) -> None:
        self.names = network.names   # in walk order, as the records
        self.pos = 0                 # walk position of the next node
        self.records: list[LayerRecord | None] = []
        self.total_bytes = 0         # float32 outputs of every row so far (docs/design.md §8)

    def next_name(self) -> str:
        self.pos += 1
        return self.names[self.pos - 1]

    def sequence(self, nodes: tuple[Node, ...], trace: _Trace, path: tuple[str, ...],
                 branch: int | None) -> _Trace:
        for node in nodes:
            trace = self.node(node, trace, path, branch)
        return trace

    def node(self, node: Node, trace: _Trace, path: tuple[str, ...], branch: int | None) -> _Trace:
        if isinstance(node, Block):
            return self.block(node, trace, path, branch)
        if isinstance(node, Parallel):
            return self.parallel(node, trace, path, branch)
        index, name = len(self.records), self.next_name()
        record = _analyse_layer(node, index, name, trace, path, branch)
        _check_activation(record.output_shape, index, name, path)
        self.total_bytes = _check_total(self.total_bytes, record.output_shape, index, name, path)
        self.records.append(record)
        return _Trace(record.output_shape, record.receptive_field, record.jump, record.start,
                      f"{name}" if node.type != "flatten" else f"{_cross(trace.shape)} after Flatten",
                      node.saves_output(trace.saved))

    def block(self, node: Block, trace: _Trace, path: tuple[str, ...], branch: int | None) -> _Trace:
        index, name = len(self.records), self.next_name()
        self.records.append(None)  # the block's row comes before its contents
        out = self.sequence(node.layers, trace, (*path, name), None)
        total = _subtotal(self.records[index + 1:])
        self.records[index] = LayerRecord(
            index, name, "block", "block", node.module, trace.shape, out.shape, 0, 0, 0, 0, 0, out.rf, out.jump,
            out.start, _container_line(node), f"the output of its last layer: {_cross(out.shape)}",
            f"{total.params:,} parameters in its {total.layers} layers", node, path, branch, total)
        return _Trace(out.shape, out.rf, out.jump, out.start, name, out.saved)

    def parallel(self, node: Parallel, trace: _Trace, path: tuple[str, ...], branch: int | None) -> _Trace:
        first = len(self.records)
        name = self.names[self.pos + sum(1 for b in node.branches for _ in iter_nodes(b))]  # its row follows its branches
        inner = (*path, name)
        outs = [self.sequence(b, _Trace(trace.shape, trace.rf, trace.jump, trace.start, trace.source, True),
                              inner, j) for j, b in enumerate(node.branches)]
        index = len(self.records)
        self.next_name()
        where = {"name": name, "index": None if path else index, "path": path}
        shape, formula = _merge_shape(node, trace.shape, [o.shape for o in outs], where)
        _check_activation(shape, index, name, path)
        self.total_bytes = _check_total(self.total_bytes, shape, index, name, path)
        full = [o for o in outs if o.shape[1:] == shape[1:]] or outs
        rfs = [o.rf for o in outs if o.rf is not None]
        rf = tuple(max(r[i] for r in rfs) for i in range(2)) if len(rfs) == len(outs) else None
        widest = max(full, key=lambda o: o.rf or (0, 0))
        jump, start = (widest.jump, widest.start) if rf is not None else (None, None)
        total = _subtotal(self.records[first:])
        self.records.append(LayerRecord(
            index, name, "parallel", "merge", MERGE_OP[node.merge], trace.shape, shape, 0, 0, 0, 0,
            _bytes(shape), rf, jump, start, _merge_line(node), formula,  # type: ignore[arg-type]
            f"no parameters; its {len(node.branches)} branches hold {total.params:,}", node, path, branch, total))
        return _Trace(shape, rf, jump, start, name, False)  # type: ignore[arg-type]


def analyse(network: Network) -> Analysis:
    """Walk the network once; raise ArchitectureError at the first node that does not fit."""
    shape = network.input.shape
    _check_activation(shape, 0, "Input", ())
    walker = _Walker(network)
    walker.total_bytes = _check_total(0, shape, 0, "Input", ())
    walker.records.append(LayerRecord(0, "Input", "input", "input", "×".join(map(str, shape)), None, shape, 0, 0,
                                      0, 0, _bytes(shape), (1, 1), (1, 1), (0.0, 0.0), "",
                                      f"input image {_cross(shape)}", "no parameters", None))
    walker.sequence(network.layers, _Trace(shape), (), None)
    return Analysis(network, tuple(r for r in walker.records if r is not None))


def _subtotal(records: list[LayerRecord | None]) -> Subtotal:
    leaves = [r for r in records if r is not None and r.is_leaf]
    return Subtotal(sum(r.params for r in leaves), sum(r.trainable_params for r in leaves),
                    sum(r.buffers for r in leaves), sum(r.macs for r in leaves),
                    sum(r.activation_bytes for r in leaves), len(leaves))


def _container_line(node: Block) -> str:
    return f"nn.Sequential(…)  # {len(node.layers)} modules" if node.module == "Sequential" else f"{node.module}()"


def _merge_line(node: Parallel) -> str:
    n = len(node.branches)
    if node.merge == "add":
        return " + ".join(["out"] * n) if n > 2 else "out = out + identity"
    if node.merge == "concat":
        return f"torch.cat([{', '.join(f'b{i + 1}' for i in range(n))}], dim=1)"
    return "x * gate"


def _merge_shape(node: Parallel, inp: Shape, shapes: list[Shape], where: dict[str, Any]) -> tuple[Shape, str]:
    """The merged shape and its formula; a clear error when the branches do not fit together."""
    def fail(message: str) -> ArchitectureError:
        return ArchitectureError(message, field="branches", **where)

    texts = [_cross(s) for s in shapes]
    if node.merge == "add":
        for j, s in enumerate(shapes[1:], start=1):
            if s != shapes[0]:
                raise fail(_add_mismatch(node, inp, shapes, j))
        return shapes[0], f"every branch gives {texts[0]}; the sum keeps that shape"
    if node.merge == "concat":
        ranks = {len(s) for s in shapes}
        if len(ranks) > 1 or any(s[1:] != shapes[0][1:] for s in shapes):
            listing = "; ".join(f"branch {j + 1} gives {t}" for j, t in enumerate(texts))
            raise fail(f"concat joins along channels, so every branch must keep the same "
                       f"{'height×width' if len(shapes[0]) == 3 else 'shape'}: {listing}; change the strides or "
                       f"padding so they agree")
        out = (sum(s[0] for s in shapes), *shapes[0][1:])
        return out, f"channels {' + '.join(str(s[0]) for s in shapes)} = {out[0]} (concatenated), {_cross(out)}"
    try:
        if len({len(s) for s in shapes}) > 1:
            raise ValueError
        out = tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        listing = " and ".join(texts)
        big = max(shapes, key=math.prod)
        example = f", e.g. {big[0]}×1×1 for a {_cross(big)} input" if len(big) == 3 else ""
        raise fail(f"shapes {listing} cannot be multiplied element-wise; a gate must have the same shape or "
                   f"size 1 where they differ{example}") from None
    return out, f"{' × '.join(texts)} broadcast to {_cross(out)}"


def _add_mismatch(node: Parallel, inp: Shape, shapes: list[Shape], j: int) -> str:
    """The message for branches of an add that end in different shapes, with the fix."""
    empty = [i for i, b in enumerate(node.branches) if not b]
    main = next((s for i, s in enumerate(shapes) if node.branches[i] and s != inp), None)
    if empty and main is not None and len(inp) == 3 and len(main) == 3:
        stride = next((st for st in range(1, max(inp[1], inp[2]) + 1)
                       if (inp[1] - 1) // st + 1 == main[1] and (inp[2] - 1) // st + 1 == main[2]), None)
        if stride is not None:
            how = f" with stride {stride}" if stride != 1 else ""
            return (f"shapes {_cross(inp)} and {_cross(main)} differ; give the shortcut a 1×1 convolution{how} "
                    f"and {main[0]} channels")
        return (f"shapes {_cross(inp)} and {_cross(main)} differ; give the shortcut layers that turn "
                f"{_cross(inp)} into {_cross(main)}")
    return (f"shapes {_cross(shapes[0])} and {_cross(shapes[j])} differ (branches 1 and {j + 1}); make every "
            "branch end in the same shape")


def _analyse_layer(layer: Layer, index: int, name: str, trace: _Trace, path: tuple[str, ...],
                   branch: int | None) -> LayerRecord:
    shape = trace.shape

    def fail(message: str, field: str | None = None) -> ArchitectureError:
        return ArchitectureError(message, index=None if path else index, name=name, field=field, path=path)

    facts: Facts = layer.analyse(Context(shape, trace.source, fail))
    out = facts.output_shape
    if facts.flat:
        rf, jump, start = None, None, None
    elif facts.window is not None:
        rf, jump, start = _rf(trace, facts.window), _jump(trace, facts.window.stride), _start(trace, facts.window)
    else:
        rf, jump, start = trace.rf, trace.jump, trace.start
    return LayerRecord(
        index, name, layer.type, layer.category, facts.op, shape, out, facts.params,
        facts.params if facts.trainable is None else facts.trainable, facts.buffers, facts.macs, _bytes(out),
        rf, jump, start, layer.torch_line(shape, not trace.saved),
        facts.shape_formula or f"same shape as its input: {_cross(out)}", facts.param_formula, layer, path, branch)


def _rf(trace: _Trace, w: Window) -> tuple[int, int] | None:
    if trace.rf is None or trace.jump is None:
        return None
    return tuple(r + (d * (k - 1)) * j for r, k, d, j in zip(trace.rf, w.kernel, w.dilation, trace.jump))  # type: ignore


def _start(trace: _Trace, w: Window) -> tuple[float, float] | None:
    """Centre of the first output's window, in input-image pixel coordinates."""
    if trace.start is None or trace.jump is None:
        return None
    return tuple(s0 + (d * (k - 1) / 2 - p) * j  # type: ignore[return-value]
                 for s0, k, p, d, j in zip(trace.start, w.kernel, w.padding, w.dilation, trace.jump))


def rf_box(record: LayerRecord, row: int, col: int) -> tuple[float, float, float, float] | None:
    """The input-pixel box (top, left, bottom, right; inclusive, unclipped) that output
    pixel (row, col) of this layer sees."""
    if record.receptive_field is None or record.jump is None or record.start is None:
        return None
    (rh, rw), (jh, jw), (sh, sw) = record.receptive_field, record.jump, record.start
    ch, cw = sh + row * jh, sw + col * jw
    return (ch - (rh - 1) / 2, cw - (rw - 1) / 2, ch + (rh - 1) / 2, cw + (rw - 1) / 2)


def _jump(trace: _Trace, stride: tuple[int, int]) -> tuple[int, int] | None:
    if trace.jump is None:
        return None
    return tuple(j * s for j, s in zip(trace.jump, stride))  # type: ignore


def _check_activation(shape: Shape, index: int, name: str, path: tuple[str, ...]) -> None:
    if math.prod(shape) > MAX_ACTIVATION:
        raise ArchitectureError(f"its output {format_shape(shape)} has {math.prod(shape):,} values, more than "
                                f"the 2³¹ the explorer supports; use fewer channels or a smaller input",
                                index=None if path else index, name=name, path=path)


def _check_total(total: int, shape: Shape, index: int, name: str, path: tuple[str, ...]) -> int:
    """Add a node's output bytes to the running total; refuse a network over the cap at the
    node that crosses it (docs/design.md §8: bounded work, before any array is made)."""
    total += _bytes(shape)
    if total > MAX_TOTAL_ACTIVATION_BYTES:
        raise ArchitectureError(f"the activations up to here take {total / 2**30:,.1f} GiB for one image "
                                f"(float32 outputs of every layer), more than the "
                                f"{MAX_TOTAL_ACTIVATION_BYTES / 2**30:g} GiB the explorer supports; "
                                f"use a smaller input or fewer channels", index=None if path else index,
                                name=name, path=path)
    return total


def _bytes(shape: Shape) -> int:
    return math.prod(shape) * BYTES_PER_VALUE
