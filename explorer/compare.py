"""Teaching comparisons computed for the network on screen (docs/design.md §7).

* Plain vs residual: the same network with every additive shortcut taken out (the body
  alone; a projection shortcut goes with it). Shortcuts are nearly free: the difference is
  the projections' parameters and MACs.
* 3×3 vs 1×1 bottleneck: every full 3×3-or-larger convolution (groups = 1) costed directly
  and as a 1×1 reduce (to C_in/r), k×k at that width, 1×1 expand (to C_out), at its own
  input and output sizes; and every 1×1 reducer already in the network, against the direct
  k×k convolution it saves.
Pure functions: counts come from the analysis, conventions as docs/design.md §4 (a MAC per
multiply-add, biases ignored in MACs).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .analysis import Analysis, LayerRecord, analyse
from .spec import Block, Conv2d, Node, Parallel, from_json


@dataclass(frozen=True)
class Cost:
    """Parameters and multiply-accumulates of one design."""
    params: int
    macs: int


@dataclass(frozen=True)
class Comparison:
    """One network measured two ways; `saved_*` is `other` minus `actual`."""

    title: str
    actual: Cost
    other: Cost
    count: int          # shortcuts / convolutions the comparison touched
    detail: str

    @property
    def saved_params(self) -> int:
        return self.other.params - self.actual.params

    @property
    def saved_macs(self) -> int:
        return self.other.macs - self.actual.macs


def _is_shortcut_add(node: Node) -> bool:
    return isinstance(node, Parallel) and node.merge == "add" and len(node.branches) == 2


def _body(branches: tuple[tuple[Node, ...], ...]) -> tuple[Node, ...]:
    """The residual body: the longer branch (the shortcut is empty or a short projection)."""
    return max(branches, key=lambda b: sum(1 for _ in _leaves(b)))


def _leaves(nodes: tuple[Node, ...]) -> Any:
    for node in nodes:
        if isinstance(node, Block):
            yield from _leaves(node.layers)
        elif isinstance(node, Parallel):
            for branch in node.branches:
                yield from _leaves(branch)
        else:
            yield node


def _plain_json(nodes: tuple[Node, ...]) -> tuple[list[dict[str, Any]], int]:
    out: list[dict[str, Any]] = []
    removed = 0
    for node in nodes:
        if _is_shortcut_add(node):
            body, n = _plain_json(_body(node.branches))   # type: ignore[union-attr]
            out.extend(body)
            removed += 1 + n
        elif isinstance(node, Block):
            inner, n = _plain_json(node.layers)
            data = node.to_json()
            data["layers"] = inner
            out.append(data)
            removed += n
        elif isinstance(node, Parallel):
            data = node.to_json()
            branches = []
            for branch in node.branches:
                inner, n = _plain_json(branch)
                branches.append(inner)
                removed += n
            data["branches"] = branches
            out.append(data)
        else:
            out.append(node.to_json())
    return out, removed


def plain_vs_residual(analysis: Analysis) -> Comparison | None:
    """The network without its additive shortcuts, or None when it has none."""
    layers, removed = _plain_json(analysis.network.layers)
    if not removed:
        return None
    data = analysis.network.to_json()
    data["layers"] = layers
    plain = analyse(from_json(data))
    actual = Cost(analysis.total_params, analysis.total_macs)
    other = Cost(plain.total_params, plain.total_macs)
    projections = actual.params - other.params
    return Comparison("Plain stack vs residual", actual, other, removed,
                      f"{removed} shortcut{'s' if removed != 1 else ''}: identity shortcuts cost nothing; "
                      f"projection shortcuts (1×1 convolutions where the shape changes) add "
                      f"{projections:,} parameters and {actual.macs - other.macs:,} MACs.")


def _conv_cost(c_in: int, c_out: int, k: tuple[int, int], out_hw: int, groups: int = 1, bias: bool = False) -> Cost:
    weights = c_out * (c_in // groups) * k[0] * k[1]
    return Cost(weights + (c_out if bias else 0), weights * out_hw)


def _bottleneck_cost(record: LayerRecord, reduction: int) -> tuple[Cost, Cost]:
    """(direct, bottlenecked) cost of one k×k convolution record (biases left out)."""
    conv: Conv2d = record.layer   # type: ignore[assignment]
    c_in, c_out = record.input_shape[0], record.output_shape[0]   # type: ignore[index]
    in_hw = math.prod(record.input_shape[1:])    # type: ignore[index]
    out_hw = math.prod(record.output_shape[1:])
    width = max(1, c_in // reduction)
    direct = _conv_cost(c_in, c_out, conv.kernel_size, out_hw)
    reduce = _conv_cost(c_in, width, (1, 1), in_hw)
    middle = _conv_cost(width, width, conv.kernel_size, out_hw)
    expand = _conv_cost(width, c_out, (1, 1), out_hw)
    return direct, Cost(reduce.params + middle.params + expand.params, reduce.macs + middle.macs + expand.macs)


def _is_full_conv(r: LayerRecord, smallest: int = 3) -> bool:
    return (isinstance(r.layer, Conv2d) and r.layer.groups == 1 and min(r.layer.kernel_size) >= smallest
            and r.input_shape is not None and len(r.input_shape) == 3)


def bottleneck_3x3(analysis: Analysis, reduction: int = 4) -> Comparison | None:
    """Every full k×k (k ≥ 3) convolution with at least `reduction` input channels, direct
    (actual) vs as a 1×1–k×k–1×1 bottleneck of width C_in/reduction (other)."""
    if reduction < 1:
        raise ValueError("the reduction must be at least 1")
    convs = [r for r in analysis.records if _is_full_conv(r) and r.input_shape[0] >= reduction]   # type: ignore[index]
    if not convs:
        return None
    direct = Cost(0, 0)
    neck = Cost(0, 0)
    for r in convs:
        d, b = _bottleneck_cost(r, reduction)
        direct = Cost(direct.params + d.params, direct.macs + d.macs)
        neck = Cost(neck.params + b.params, neck.macs + b.macs)
    return Comparison(f"3×3 vs 1×1 bottleneck (width ÷{reduction})", direct, neck, len(convs),
                      f"{len(convs)} convolution{'s' if len(convs) != 1 else ''} of 3×3 or larger: as they are, "
                      f"{direct.params:,} weights and {direct.macs:,} MACs; as 1×1 → k×k → 1×1 bottlenecks "
                      f"{neck.params:,} weights and {neck.macs:,} MACs.")


def existing_reducers(analysis: Analysis) -> Comparison | None:
    """Each 1×1 convolution directly followed (in the same branch) by a full k×k one: the
    pair (actual) vs one k×k convolution from the reducer's input (other)."""
    records = analysis.records
    merges = {r.name for r in records if r.category == "merge"}

    def branch_of(r: LayerRecord) -> tuple[tuple[str, ...], int | None]:
        """The innermost parallel around `r` and which of its branches holds it."""
        cut = max((i + 1 for i, name in enumerate(r.path) if name in merges), default=0)
        return r.path[:cut], (r.branch if cut else None)

    pairs = []
    for i, r in enumerate(records[:-1]):
        if not (isinstance(r.layer, Conv2d) and r.layer.kernel_size == (1, 1) and r.layer.groups == 1):
            continue
        j = next((j for j in range(i + 1, len(records)) if isinstance(records[j].layer, Conv2d)), None)
        if j is None or not _is_full_conv(records[j]) or branch_of(records[j]) != branch_of(r):
            continue
        if any(s.category == "merge" for s in records[i + 1:j]):
            continue
        if records[j].input_shape[0] != r.output_shape[0]:   # type: ignore[index]
            continue
        pairs.append((r, records[j]))
    if not pairs:
        return None
    actual, other = Cost(0, 0), Cost(0, 0)
    for reducer, conv in pairs:
        out_hw = math.prod(conv.output_shape[1:])
        in_hw = math.prod(reducer.output_shape[1:])
        a1 = _conv_cost(reducer.input_shape[0], reducer.output_shape[0], (1, 1), in_hw)   # type: ignore[index]
        a2 = _conv_cost(conv.input_shape[0], conv.output_shape[0], conv.layer.kernel_size, out_hw)   # type: ignore[index, union-attr]
        o = _conv_cost(reducer.input_shape[0], conv.output_shape[0], conv.layer.kernel_size, out_hw)   # type: ignore[index, union-attr]
        actual = Cost(actual.params + a1.params + a2.params, actual.macs + a1.macs + a2.macs)
        other = Cost(other.params + o.params, other.macs + o.macs)
    return Comparison("1×1 reducers already in this network", actual, other, len(pairs),
                      f"{len(pairs)} 1×1 reducer{'s' if len(pairs) != 1 else ''} in front of a larger convolution: "
                      f"without them the k×k convolutions would need {other.params:,} weights and "
                      f"{other.macs:,} MACs instead of {actual.params:,} and {actual.macs:,}.")
