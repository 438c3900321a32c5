"""The architecture spec: layer and container dataclasses, JSON parsing/validation, names.

This module checks each node on its own (types, ranges, unknown fields, the graph limits).
Whether the nodes fit together (shapes, stated input sizes, merges) is checked by
`explorer.analysis`, which raises the same `ArchitectureError` so callers handle one
exception type. The layer kinds themselves live in `explorer.layers` (re-exported here);
the graph format (blocks and parallels) is described in docs/design.md.
"""
from __future__ import annotations

import difflib
import json
import keyword
import math
from dataclasses import MISSING, dataclass, fields, replace
from typing import Any, ClassVar, Iterator, Union

from .errors import PATH_SEPARATOR, ArchitectureError
from .layers import (GELU, KINDS, LAYER_TYPES, AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, BatchNorm2d,
                     Conv2d, Dropout, Flatten, Hardsigmoid, Hardswish, Identity, LayerSpec, LeakyReLU, Linear,
                     MaxPool2d, ReLU, ReLU6, Sigmoid, SiLU, StochasticDepth, Tanh)

from .text import MAX_LAYER_NAME, MAX_NETWORK_NAME, json_problem, name_problem, printable, strip_bom

MAX_SIZE = 100_000
MAX_LAYERS = 1_000        # top-level nodes (the flat limit)
MAX_NODES = 2_000         # all nodes of the tree: layers, blocks and parallels
MAX_DEPTH = 32            # blocks/parallels nested in one another
MAX_BRANCHES = 16         # branches of one parallel
MAX_NAME = MAX_LAYER_NAME  # characters in a name (torchvision module paths reach ~55)
MERGES = ("add", "concat", "multiply")

Pair = tuple[int, int]

__all__ = ["ArchitectureError", "PATH_SEPARATOR", "LayerSpec", "LAYER_TYPES", "KINDS", "Block", "Parallel",
           "Network", "InputSpec", "Layer", "Node", "loads", "from_json", "parse_layer", "resolve_names",
           "iter_nodes", "default_network", "DEFAULT_JSON", "Conv2d", "BatchNorm2d", "ReLU", "LeakyReLU",
           "Sigmoid", "Tanh", "ReLU6", "SiLU", "Hardswish", "Hardsigmoid", "GELU", "MaxPool2d", "AvgPool2d",
           "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Dropout", "StochasticDepth", "Flatten", "Identity",
           "Linear"]

Layer = Union[Conv2d, BatchNorm2d, ReLU, LeakyReLU, Sigmoid, Tanh, MaxPool2d, AvgPool2d,
              AdaptiveAvgPool2d, Dropout, Flatten, Linear, ReLU6, SiLU, Hardswish, Hardsigmoid, GELU,
              Identity, AdaptiveMaxPool2d, StochasticDepth]


@dataclass(frozen=True)
class Block:
    """A named sequential sub-network (nn.Sequential or a custom module in PyTorch)."""

    type: ClassVar[str] = "block"
    category: ClassVar[str] = "block"
    layers: tuple["Node", ...]
    name: str | None = None
    module: str = "Sequential"        # the PyTorch class to show and generate

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "block"}
        if self.name is not None:
            out["name"] = self.name
        if self.module != "Sequential":
            out["module"] = self.module
        out["layers"] = [node.to_json() for node in self.layers]
        return out


@dataclass(frozen=True)
class Parallel:
    """Branches that all receive the same input; their outputs are merged by `merge`:
    "add" (same shapes), "concat" (along channels) or "multiply" (broadcasting). An empty
    branch is the identity (a shortcut). The node's name is the merge's name."""

    type: ClassVar[str] = "parallel"
    category: ClassVar[str] = "merge"
    branches: tuple[tuple["Node", ...], ...]
    merge: str
    name: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "parallel"}
        if self.name is not None:
            out["name"] = self.name
        out["merge"] = self.merge
        out["branches"] = [[node.to_json() for node in branch] for branch in self.branches]
        return out


Node = Union[Layer, Block, Parallel]


@dataclass(frozen=True)
class InputSpec:
    """The input tensor's size (channels × height × width), batch left out."""
    channels: int
    height: int
    width: int

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.channels, self.height, self.width)


@dataclass(frozen=True)
class Network:
    """A parsed, field-valid architecture. `names` are the resolved names of every node in
    walk order (see `iter_nodes`); for a flat network, one per layer."""

    name: str
    input: InputSpec
    layers: tuple[Node, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return resolve_names(self.layers)

    @property
    def is_flat(self) -> bool:
        """True when no block or parallel appears (the original, chain-only format)."""
        return all(isinstance(node, LayerSpec) for node in self.layers)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name,
                "input": {"channels": self.input.channels, "height": self.input.height,
                          "width": self.input.width},
                "layers": [layer.to_json() for layer in self.layers]}

    def dumps(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_json(), indent=indent, ensure_ascii=False)

    def replace_layer(self, index: int, layer: Node) -> "Network":
        layers = list(self.layers)
        layers[index] = layer
        return replace(self, layers=tuple(layers))


# ---------------------------------------------------------------------------------------
# Walking the tree and naming its nodes

def iter_nodes(layers: tuple[Node, ...] | list[Node]) -> Iterator[Node]:
    """Every node in walk order: a block before its contents, a parallel (its merge) after
    its branches, branches in order. For a flat network: the layers in order."""
    for node in layers:
        if isinstance(node, Block):
            yield node
            yield from iter_nodes(node.layers)
        elif isinstance(node, Parallel):
            for branch in node.branches:
                yield from iter_nodes(branch)
            yield node
        else:
            yield node


def _kind_of(node: Node) -> str:
    return f"parallel:{node.merge}" if isinstance(node, Parallel) else node.type


def resolve_names(layers: tuple[Node, ...] | list[Node]) -> tuple[str, ...]:
    """Names of every node in walk order (`iter_nodes`)."""
    return _names([(_kind_of(node), node.name) for node in iter_nodes(layers)])


_CONTAINER_PREFIX = {"block": "Block", "parallel:add": "Add", "parallel:concat": "Concat",
                     "parallel:multiply": "Multiply"}
_NAME_PREFIX = {**{cls.type: cls.prefix for cls in KINDS}, **_CONTAINER_PREFIX}


def _names(kinds: list[tuple[str, str | None]]) -> tuple[str, ...]:
    """Default names number each kind in order (Conv1, BN1, …); the last linear is Logits.

    A single Flatten is just "Flatten". User-given names are kept; a default name that
    clashes with a user-given one gets a letter suffix so names stay unique.
    """
    taken = {name for _, name in kinds if name}
    linear_idx = [i for i, (kind, _) in enumerate(kinds) if kind == "linear"]
    last_linear = linear_idx[-1] if linear_idx else None
    flatten_count = sum(kind == "flatten" for kind, _ in kinds)
    counters: dict[str, int] = {}
    names: list[str] = []
    for i, (kind, given) in enumerate(kinds):
        if given:
            names.append(given)
            continue
        if kind not in _NAME_PREFIX and not kind.startswith("parallel:"):
            names.append(f"Layer {i + 1}")
            continue
        if i == last_linear:
            base = "Logits"
        else:
            prefix = _NAME_PREFIX.get(kind, "Merge")
            counters[prefix] = counters.get(prefix, 0) + 1
            base = prefix if (kind == "flatten" and flatten_count == 1) else f"{prefix}{counters[prefix]}"
        name, suffix = base, ord("b")
        while name in taken or name == "Input":
            name, suffix = f"{base}{chr(suffix)}", suffix + 1
        taken.add(name)
        names.append(name)
    return tuple(names)


# ---------------------------------------------------------------------------------------
# Parsing

def loads(text: str) -> Network:
    """Parse the §2 JSON text; raise ArchitectureError with a precise message.

    Size, nesting depth and number length are checked before parsing (explorer.text), so
    no input reaches the parser's recursion or integer limits; a byte-order mark is fine.
    """
    text = strip_bom(text)
    problem = json_problem(text)
    if problem:
        raise ArchitectureError(problem)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArchitectureError(
            f"the architecture is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:  # an integer of > 4300 digits; nesting too deep
        raise ArchitectureError(f"the architecture is not usable JSON: {str(exc).split(';')[0]}") from None
    return from_json(data)


def from_json(data: Any) -> Network:
    if not isinstance(data, dict):
        raise ArchitectureError("the architecture must be a JSON object with \"input\" and \"layers\"")
    unknown = set(data) - {"name", "input", "layers"}
    if unknown:
        raise ArchitectureError(f"unknown top-level field {_quote(sorted(unknown)[0])}; "
                                "allowed: \"name\", \"input\", \"layers\"")
    name = data.get("name", "Network")
    problem = name_problem(name, limit=MAX_NETWORK_NAME)
    if problem:
        raise ArchitectureError(f"the network's \"name\" {problem}")
    input_spec = _parse_input(data.get("input", MISSING))
    raw_layers = data.get("layers", MISSING)
    if raw_layers is MISSING:
        raise ArchitectureError("\"layers\" is missing; add a list of layers, e.g. "
                                "[{\"type\": \"conv2d\", \"out_channels\": 32, \"kernel_size\": 3}]")
    if not isinstance(raw_layers, list) or not raw_layers:
        raise ArchitectureError("\"layers\" must be a non-empty list of layer objects")
    if len(raw_layers) > MAX_LAYERS:
        raise ArchitectureError(f"{len(raw_layers)} layers is more than the {MAX_LAYERS} supported")
    raw_nodes: list[tuple[tuple[int, ...], str, str | None]] = []
    _walk_raw(raw_layers, (), 0, raw_nodes)
    if len(raw_nodes) > MAX_NODES:
        raise ArchitectureError(f"the network has {len(raw_nodes):,} nodes (layers, blocks and parallels), more "
                                f"than the {MAX_NODES:,} supported; remove layers or split the network")
    labels = _names([(kind, given) for _, kind, given in raw_nodes])
    parser = _Parser({key: (labels[i], i + 1) for i, (key, _, _) in enumerate(raw_nodes)})
    layers = parser.sequence(raw_layers, (), ())
    _check_unique_names(layers)
    return Network(name=name.strip(), input=input_spec, layers=layers)


def _walk_raw(raw_layers: list[Any], key: tuple[int, ...], depth: int,
              out: list[tuple[tuple[int, ...], str, str | None]]) -> None:
    """(key, kind, given name) of every raw node in walk order, for naming nodes before (and
    while) parsing them. Keys are position paths; walking stops below MAX_DEPTH + 1 (the
    parser reports the depth) and once the node limit is passed."""
    for i, raw in enumerate(raw_layers):
        if len(out) > MAX_NODES:
            return
        kind, given = _raw_kind(raw)
        here = (*key, i)
        if kind == "block":
            out.append((here, kind, given))
            children = raw.get("layers")
            if isinstance(children, list) and depth < MAX_DEPTH + 1:
                _walk_raw(children, here, depth + 1, out)
        elif kind == "parallel":
            branches = raw.get("branches")
            if isinstance(branches, list) and depth < MAX_DEPTH + 1:
                for j, branch in enumerate(branches[:MAX_BRANCHES + 1]):
                    if isinstance(branch, list):
                        _walk_raw(branch, (*here, j), depth + 1, out)
            merge = raw.get("merge")
            out.append((here, f"parallel:{merge.lower()}" if isinstance(merge, str) else kind, given))
        else:
            out.append((here, kind, given))


class _Parser:
    """Parses nodes recursively; `labels` maps a node's position key to (name, row index)."""

    def __init__(self, labels: dict[tuple[int, ...], tuple[str, int]]) -> None:
        self.labels = labels

    def sequence(self, raw_layers: list[Any], key: tuple[int, ...], path: tuple[str, ...]) -> tuple[Node, ...]:
        return tuple(self.node(raw, (*key, i), path) for i, raw in enumerate(raw_layers))

    def node(self, raw: Any, key: tuple[int, ...], path: tuple[str, ...]) -> Node:
        label, index = self.labels.get(key, (f"Layer {key[-1] + 1}", key[-1] + 1))
        kind = raw.get("type") if isinstance(raw, dict) else None
        if isinstance(kind, str) and kind.lower() in ("block", "parallel"):
            if len(path) >= MAX_DEPTH:
                raise ArchitectureError(f"blocks and parallels are nested more than {MAX_DEPTH} deep, the most "
                                        "the explorer supports; flatten some of the inner blocks",
                                        name=label, path=path)
            where = {"index": None if path else index, "name": label, "path": path}
            if kind.lower() == "block":
                return self.block(raw, key, where)
            return self.parallel(raw, key, where)
        return parse_layer(raw, index, label, path=path)

    def block(self, raw: dict[str, Any], key: tuple[int, ...], where: dict[str, Any]) -> Block:
        _check_keys(raw, "block", ("type", "name", "module", "layers"), where)
        name = _check_name(raw["name"], where) if "name" in raw else None
        module = raw.get("module", "Sequential")
        if not isinstance(module, str) or not module.isidentifier() or keyword.iskeyword(module):
            raise ArchitectureError(f"module must be a Python class name such as \"BasicBlock\", got "
                                    f"{_describe(module)}", field="module", **where)
        children = raw.get("layers")
        if not isinstance(children, list) or not children:
            raise ArchitectureError("a block needs a non-empty list \"layers\"; add its layers or remove the block",
                                    field="layers", **where)
        layers = self.sequence(children, key, (*where["path"], where["name"]))
        return Block(layers=layers, name=name, module=module)

    def parallel(self, raw: dict[str, Any], key: tuple[int, ...], where: dict[str, Any]) -> Parallel:
        _check_keys(raw, "parallel", ("type", "name", "merge", "branches"), where)
        name = _check_name(raw["name"], where) if "name" in raw else None
        merge = raw.get("merge")
        if not isinstance(merge, str) or merge.lower() not in MERGES:
            raise ArchitectureError(f"merge must be one of \"add\", \"concat\", \"multiply\", got "
                                    f"{_describe(merge) if merge is not None else 'nothing'}", field="merge", **where)
        branches = raw.get("branches")
        if (not isinstance(branches, list) or not all(isinstance(b, list) for b in branches)
                or not 2 <= len(branches) <= MAX_BRANCHES):
            got = (f"{len(branches)} branch{'es' if len(branches) != 1 else ''}" if isinstance(branches, list)
                   else _describe(branches))
            raise ArchitectureError(f"branches must be a list of 2 to {MAX_BRANCHES} lists of layers (an empty "
                                    f"list is the identity shortcut), got {got}", field="branches", **where)
        inner = (*where["path"], where["name"])
        parsed = tuple(self.sequence(branch, (*key, j), inner) for j, branch in enumerate(branches))
        return Parallel(branches=parsed, merge=merge.lower(), name=name)


def _check_keys(raw: dict[str, Any], kind: str, allowed: tuple[str, ...], where: dict[str, Any]) -> None:
    for key in raw:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            fix = f"did you mean \"{hint[0]}\"?" if hint else f"{kind} takes {', '.join(allowed[1:])}"
            raise ArchitectureError(f"unknown field {_quote(key)} for {kind}; {fix}", field=str(key), **where)


def _check_name(value: Any, where: dict[str, Any]) -> str:
    problem = name_problem(value, limit=MAX_NAME)
    if problem:
        raise ArchitectureError(f"name {problem}", field="name", **where)
    if value.strip() == "Input":
        raise ArchitectureError("the name \"Input\" is reserved for the input row; choose another",
                                field="name", **where)
    return value.strip()


def _parse_input(raw: Any) -> InputSpec:
    example = "\"input\": {\"channels\": 3, \"height\": 32, \"width\": 32}"
    if raw is MISSING:
        raise ArchitectureError(f"\"input\" is missing; add {example}", index=0, name="Input")
    if not isinstance(raw, dict):
        raise ArchitectureError(f"\"input\" must be an object like {example}", index=0, name="Input")
    unknown = set(raw) - {"channels", "height", "width"}
    if unknown:
        raise ArchitectureError(f"unknown field {_quote(sorted(unknown)[0])}; use {example}",
                                index=0, name="Input", field=sorted(unknown)[0])
    values = []
    for key in ("channels", "height", "width"):
        if key not in raw:
            raise ArchitectureError(f"{key} is missing; use {example}", index=0, name="Input", field=key)
        values.append(_check_int(raw[key], key, 1, index=0, name="Input"))
    return InputSpec(*values)


def _raw_kind(raw: Any) -> tuple[str, str | None]:
    """(type, name) of a raw node object, for naming nodes in error messages."""
    if not isinstance(raw, dict):
        return ("", None)
    kind, name = raw.get("type"), raw.get("name")
    return (kind.lower() if isinstance(kind, str) else "",
            name.strip() if isinstance(name, str) and name_problem(name, limit=MAX_NAME) is None else None)


def parse_layer(raw: Any, index: int, label: str | None = None, *, path: tuple[str, ...] = ()) -> Layer:
    """Parse one layer object; `index` is its row counting Input as 0, `label` its name, `path`
    the names of its enclosing blocks/parallels (errors then name the path, not the index)."""
    label = label or f"Layer {index}"
    where: dict[str, Any] = {"index": None if path else index, "name": label, "path": path}
    if not isinstance(raw, dict):
        raise ArchitectureError(f"each layer must be an object with a \"type\", got {_describe(raw)}", **where)
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise ArchitectureError(f"\"type\" is missing; one of {', '.join(LAYER_TYPES)}", field="type", **where)
    cls = LAYER_TYPES.get(kind.lower())
    if cls is None:
        hint = difflib.get_close_matches(kind.lower(), [*LAYER_TYPES, "block", "parallel"], n=1)
        fix = (f"did you mean \"{hint[0]}\"?" if hint
               else f"supported: {', '.join(LAYER_TYPES)}, and the containers block and parallel")
        raise ArchitectureError(f"unknown layer type {_quote(kind)}; {fix}", field="type", **where)
    allowed = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "type":
            continue
        f = allowed.get(key)
        if f is None:
            hint = difflib.get_close_matches(key, allowed, n=1)
            fix = (f"did you mean \"{hint[0]}\"?" if hint
                   else f"{cls.type} takes {', '.join(allowed) or 'no fields'}")
            raise ArchitectureError(f"unknown field {_quote(key)} for {cls.type}; {fix}", field=key, **where)
        values[key] = _check_field(f, value, where)
    for f in fields(cls):
        if f.default is MISSING and f.name not in values:
            raise ArchitectureError(f"{cls.type} needs {f.name}, e.g. \"{f.name}\": 3", field=f.name, **where)
    return cls(**values)  # type: ignore[return-value]


def _check_field(f: Any, value: Any, where: dict[str, Any]) -> Any:
    kind = f.metadata.get("kind")
    index, label, path = where["index"], where["name"], where["path"]
    if kind == "name":
        return _check_name(value, where)
    if value is None and f.default is None:
        return None
    if kind == "count":
        return _check_int(value, f.name, 1, index=index, name=label, path=path)
    if kind == "size":
        minimum = f.metadata["min"]
        if isinstance(value, list):
            if len(value) != 2:
                raise ArchitectureError(f"{f.name} must be an integer or [height, width], got {_describe(value)}",
                                        field=f.name, **where)
            return tuple(_check_int(v, f.name, minimum, index=index, name=label, path=path) for v in value)
        v = _check_int(value, f.name, minimum, index=index, name=label, path=path)
        return (v, v)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ArchitectureError(f"{f.name} must be true or false, got {_describe(value)}", field=f.name, **where)
        return value
    if kind == "choice":
        choices = f.metadata["choices"]
        if value not in choices:
            options = ", ".join(f'"{c}"' for c in choices)
            raise ArchitectureError(f"{f.name} must be one of {options}, got "
                                    f"{_describe(value)}", field=f.name, **where)
        return value
    if kind == "number":
        low, high, low_open, high_open = f.metadata["range"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ArchitectureError(f"{f.name} must be a number, got {_describe(value)}", field=f.name, **where)
        if value < low or value > high or (low_open and value == low) or (high_open and value == high):
            lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
            raise ArchitectureError(f"{f.name} {value} is outside {lo}{low:g}, {high:g}{hi}", field=f.name, **where)
        return float(value)
    raise AssertionError(kind)


def _check_int(value: Any, key: str, minimum: int, *, index: int | None, name: str,
               path: tuple[str, ...] = ()) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            fix = f"write {int(value)} without a decimal point"
        else:
            fix = "sizes are whole numbers"
        raise ArchitectureError(f"{key} must be an integer, got {_describe(value)}; {fix}",
                                index=index, name=name, field=key, path=path)
    if value < minimum:
        raise ArchitectureError(f"{key} is {value}; it must be at least {minimum}",
                                index=index, name=name, field=key, path=path)
    if value > MAX_SIZE:
        raise ArchitectureError(f"{key} is {value:,}; the explorer supports at most {MAX_SIZE:,}",
                                index=index, name=name, field=key, path=path)
    return value


def _check_unique_names(layers: tuple[Node, ...]) -> None:
    """Given names are unique over the whole tree (blocks, merges and layers)."""
    seen: dict[str, int] = {}
    for i, node in enumerate(iter_nodes(layers), start=1):
        if node.name is None:
            continue
        if node.name in seen:
            raise ArchitectureError(f"the name is already used by layer {seen[node.name]}; names must be unique",
                                    index=i, name=node.name, field="name")
        seen[node.name] = i


def _describe(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else f"\"{printable(value)}\""
    return text if len(text) <= 30 else text[:27] + "…"


def _quote(text: str) -> str:
    return _describe(str(text))


# ---------------------------------------------------------------------------------------
# The seed network (docs/design.md §2 and §4)

DEFAULT_JSON: dict[str, Any] = {
    "name": "CIFAR-10 CNN",
    "input": {"channels": 3, "height": 32, "width": 32},
    "layers": [
        {"type": "conv2d", "name": "Conv1", "out_channels": 32, "kernel_size": 3, "padding": 1},
        {"type": "batchnorm2d"}, {"type": "relu"}, {"type": "maxpool2d", "kernel_size": 2, "stride": 2},
        {"type": "conv2d", "name": "Conv2", "out_channels": 64, "kernel_size": 3, "padding": 1},
        {"type": "batchnorm2d"}, {"type": "relu"}, {"type": "maxpool2d", "kernel_size": 2},
        {"type": "conv2d", "name": "Conv3", "out_channels": 128, "kernel_size": 3, "padding": 1},
        {"type": "batchnorm2d"}, {"type": "relu"}, {"type": "maxpool2d", "kernel_size": 2},
        {"type": "flatten"},
        {"type": "linear", "name": "FC1", "out_features": 256},
        {"type": "relu"},
        {"type": "linear", "name": "Logits", "out_features": 10},
    ],
}


def default_network() -> Network:
    return from_json(DEFAULT_JSON)
