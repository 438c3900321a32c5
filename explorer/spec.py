"""The architecture spec: layer dataclasses, JSON parsing/validation and serialisation.

This module checks each layer on its own (types, ranges, unknown fields). Whether the
layers fit together (shapes, stated input sizes) is checked by `explorer.analysis`,
which raises the same `ArchitectureError` so callers handle one exception type.
"""
from __future__ import annotations

import difflib
import json
import math
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any, ClassVar, Union

from .text import MAX_LAYER_NAME, MAX_NETWORK_NAME, json_problem, name_problem, printable, strip_bom

MAX_SIZE = 100_000
MAX_LAYERS = 1_000

Pair = tuple[int, int]


class ArchitectureError(ValueError):
    """Invalid architecture input. The message names the layer, the field and the fix."""

    def __init__(self, message: str, *, index: int | None = None, name: str | None = None,
                 field: str | None = None) -> None:
        self.index, self.layer_name, self.field, self.reason = index, name, field, message
        if name is not None:
            where = f" (layer {index})" if index is not None and name != f"Layer {index}" else ""
            message = f"{name}{where}: {message}"
        super().__init__(message)


def _size(default: Any = MISSING, *, minimum: int = 1) -> Any:
    """A spatial size: an int or [h, w] in the JSON, a (h, w) pair in Python."""
    return field(default=default, metadata={"kind": "size", "min": minimum})


def _count(default: Any = MISSING) -> Any:
    return field(default=default, metadata={"kind": "count"})


def _number(default: float, low: float, high: float, *, low_open: bool = False,
            high_open: bool = False) -> Any:
    return field(default=default, metadata={"kind": "number", "range": (low, high, low_open, high_open)})


def _flag(default: bool = True) -> Any:
    return field(default=default, metadata={"kind": "bool"})


@dataclass(frozen=True)
class LayerSpec:
    """Base for all layer kinds; `name` is the optional user-given name."""

    type: ClassVar[str] = ""
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
            if f.default is not MISSING and value == _normalise_default(f):
                continue
            if f.metadata.get("kind") == "size" and value is not None:
                value = value[0] if value[0] == value[1] else [value[0], value[1]]
            out[f.name] = value
        return out


@dataclass(frozen=True)
class Conv2d(LayerSpec):
    type: ClassVar[str] = "conv2d"
    out_channels: int = _count()
    kernel_size: Pair = _size()
    stride: Pair = _size((1, 1))
    padding: Pair = _size((0, 0), minimum=0)
    dilation: Pair = _size((1, 1))
    groups: int = _count(1)
    bias: bool = _flag(True)
    in_channels: int | None = _count(None)


@dataclass(frozen=True)
class BatchNorm2d(LayerSpec):
    type: ClassVar[str] = "batchnorm2d"
    eps: float = _number(1e-5, 0.0, 1.0, low_open=True)
    momentum: float = _number(0.1, 0.0, 1.0)
    affine: bool = _flag(True)
    num_features: int | None = _count(None)


@dataclass(frozen=True)
class ReLU(LayerSpec):
    type: ClassVar[str] = "relu"


@dataclass(frozen=True)
class LeakyReLU(LayerSpec):
    type: ClassVar[str] = "leaky_relu"
    negative_slope: float = _number(0.01, -1e6, 1e6)


@dataclass(frozen=True)
class Sigmoid(LayerSpec):
    type: ClassVar[str] = "sigmoid"


@dataclass(frozen=True)
class Tanh(LayerSpec):
    type: ClassVar[str] = "tanh"


@dataclass(frozen=True)
class _Pool2d(LayerSpec):
    """Fields shared by max and average pooling (stride None means stride = kernel_size)."""

    kernel_size: Pair = _size()
    stride: Pair | None = _size(None)
    padding: Pair = _size((0, 0), minimum=0)


@dataclass(frozen=True)
class MaxPool2d(_Pool2d):
    type: ClassVar[str] = "maxpool2d"


@dataclass(frozen=True)
class AvgPool2d(_Pool2d):
    type: ClassVar[str] = "avgpool2d"


@dataclass(frozen=True)
class AdaptiveAvgPool2d(LayerSpec):
    type: ClassVar[str] = "adaptive_avgpool2d"
    output_size: Pair = _size()


@dataclass(frozen=True)
class Dropout(LayerSpec):
    type: ClassVar[str] = "dropout"
    p: float = _number(0.5, 0.0, 1.0, high_open=True)


@dataclass(frozen=True)
class Flatten(LayerSpec):
    type: ClassVar[str] = "flatten"


@dataclass(frozen=True)
class Linear(LayerSpec):
    type: ClassVar[str] = "linear"
    out_features: int = _count()
    bias: bool = _flag(True)
    in_features: int | None = _count(None)


Layer = Union[Conv2d, BatchNorm2d, ReLU, LeakyReLU, Sigmoid, Tanh, MaxPool2d, AvgPool2d,
              AdaptiveAvgPool2d, Dropout, Flatten, Linear]
LAYER_TYPES: dict[str, type[LayerSpec]] = {cls.type: cls for cls in (
    Conv2d, BatchNorm2d, ReLU, LeakyReLU, Sigmoid, Tanh, MaxPool2d, AvgPool2d,
    AdaptiveAvgPool2d, Dropout, Flatten, Linear)}


@dataclass(frozen=True)
class InputSpec:
    channels: int
    height: int
    width: int

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.channels, self.height, self.width)


@dataclass(frozen=True)
class Network:
    """A parsed, field-valid architecture. `names` are the resolved display names."""

    name: str
    input: InputSpec
    layers: tuple[Layer, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return resolve_names(self.layers)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name,
                "input": {"channels": self.input.channels, "height": self.input.height,
                          "width": self.input.width},
                "layers": [layer.to_json() for layer in self.layers]}

    def dumps(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_json(), indent=indent, ensure_ascii=False)

    def replace_layer(self, index: int, layer: Layer) -> "Network":
        layers = list(self.layers)
        layers[index] = layer
        return replace(self, layers=tuple(layers))


# ---------------------------------------------------------------------------------------
# Names

_NAME_PREFIX = {"conv2d": "Conv", "batchnorm2d": "BN", "relu": "ReLU", "leaky_relu": "LeakyReLU",
                "sigmoid": "Sigmoid", "tanh": "Tanh", "maxpool2d": "Pool", "avgpool2d": "Pool",
                "adaptive_avgpool2d": "AdaptivePool", "dropout": "Dropout", "flatten": "Flatten",
                "linear": "FC"}


def resolve_names(layers: tuple[LayerSpec, ...] | list[LayerSpec]) -> tuple[str, ...]:
    return _names([(layer.type, layer.name) for layer in layers])


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
        if kind not in _NAME_PREFIX:
            names.append(f"Layer {i + 1}")
            continue
        if i == last_linear:
            base = "Logits"
        else:
            prefix = _NAME_PREFIX[kind]
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
    labels = _names([_raw_kind(raw) for raw in raw_layers])
    layers = tuple(parse_layer(raw, i + 1, labels[i]) for i, raw in enumerate(raw_layers))
    _check_unique_names(layers)
    return Network(name=name.strip(), input=input_spec, layers=layers)


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
    """(type, name) of a raw layer object, for naming layers in error messages."""
    if not isinstance(raw, dict):
        return ("", None)
    kind, name = raw.get("type"), raw.get("name")
    return (kind.lower() if isinstance(kind, str) else "",
            name.strip() if isinstance(name, str) and name_problem(name, limit=MAX_LAYER_NAME) is None else None)


def parse_layer(raw: Any, index: int, label: str | None = None) -> Layer:
    """Parse one layer object; `index` is its position counting Input as 0, `label` its name."""
    label = label or f"Layer {index}"
    if not isinstance(raw, dict):
        raise ArchitectureError(f"each layer must be an object with a \"type\", got {_describe(raw)}",
                                index=index, name=label)
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise ArchitectureError(f"\"type\" is missing; one of {', '.join(LAYER_TYPES)}",
                                index=index, name=label, field="type")
    cls = LAYER_TYPES.get(kind.lower())
    if cls is None:
        hint = difflib.get_close_matches(kind.lower(), LAYER_TYPES, n=1)
        fix = f"did you mean \"{hint[0]}\"?" if hint else f"supported: {', '.join(LAYER_TYPES)}"
        raise ArchitectureError(f"unknown layer type {_quote(kind)}; {fix}", index=index, name=label,
                                field="type")
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
            raise ArchitectureError(f"unknown field {_quote(key)} for {cls.type}; {fix}",
                                    index=index, name=label, field=key)
        values[key] = _check_field(f, value, index, label)
    for f in fields(cls):
        if f.default is MISSING and f.name not in values:
            raise ArchitectureError(f"{cls.type} needs {f.name}, e.g. \"{f.name}\": 3",
                                    index=index, name=label, field=f.name)
    return cls(**values)  # type: ignore[return-value]


def _check_field(f: Any, value: Any, index: int, label: str) -> Any:
    kind = f.metadata.get("kind")
    if kind == "name":
        problem = name_problem(value, limit=MAX_LAYER_NAME)
        if problem:
            raise ArchitectureError(f"name {problem}", index=index, name=label, field="name")
        if value.strip() == "Input":
            raise ArchitectureError("the name \"Input\" is reserved for the input row; choose another",
                                    index=index, name=label, field="name")
        return value.strip()
    if value is None and f.default is None:
        return None
    if kind == "count":
        return _check_int(value, f.name, 1, index=index, name=label)
    if kind == "size":
        minimum = f.metadata["min"]
        if isinstance(value, list):
            if len(value) != 2:
                raise ArchitectureError(f"{f.name} must be an integer or [height, width], got {_describe(value)}",
                                        index=index, name=label, field=f.name)
            return tuple(_check_int(v, f.name, minimum, index=index, name=label) for v in value)
        v = _check_int(value, f.name, minimum, index=index, name=label)
        return (v, v)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ArchitectureError(f"{f.name} must be true or false, got {_describe(value)}",
                                    index=index, name=label, field=f.name)
        return value
    if kind == "number":
        low, high, low_open, high_open = f.metadata["range"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ArchitectureError(f"{f.name} must be a number, got {_describe(value)}",
                                    index=index, name=label, field=f.name)
        if value < low or value > high or (low_open and value == low) or (high_open and value == high):
            lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
            raise ArchitectureError(f"{f.name} {value} is outside {lo}{low:g}, {high:g}{hi}",
                                    index=index, name=label, field=f.name)
        return float(value)
    raise AssertionError(kind)


def _check_int(value: Any, key: str, minimum: int, *, index: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            fix = f"write {int(value)} without a decimal point"
        else:
            fix = "sizes are whole numbers"
        raise ArchitectureError(f"{key} must be an integer, got {_describe(value)}; {fix}",
                                index=index, name=name, field=key)
    if value < minimum:
        raise ArchitectureError(f"{key} is {value}; it must be at least {minimum}",
                                index=index, name=name, field=key)
    if value > MAX_SIZE:
        raise ArchitectureError(f"{key} is {value:,}; the explorer supports at most {MAX_SIZE:,}",
                                index=index, name=name, field=key)
    return value


def _check_unique_names(layers: tuple[LayerSpec, ...]) -> None:
    seen: dict[str, int] = {}
    for i, layer in enumerate(layers, start=1):
        if layer.name is None:
            continue
        if layer.name in seen:
            raise ArchitectureError(f"the name is already used by layer {seen[layer.name]}; names must be unique",
                                    index=i, name=layer.name, field="name")
        seen[layer.name] = i


def _normalise_default(f: Any) -> Any:
    if f.metadata.get("kind") == "size" and isinstance(f.default, int):
        return (f.default, f.default)
    return f.default


def _describe(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else f"\"{printable(value)}\""
    return text if len(text) <= 30 else text[:27] + "…"


def _quote(text: str) -> str:
    return _describe(str(text))


# ---------------------------------------------------------------------------------------
# The seed network (DESIGN.md §2 and §4)

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
