"""Bring your own model: `print(model)` text or an `nn.Sequential(...)` expression → Network.

The text is parsed with `ast` and walked by a small reader that understands only literal
values, a little integer arithmetic and calls to the nn modules in `MODULES`. Nothing in
the text is executed or imported. Every problem is an `ArchitectureError` whose message
starts with the line it is on and names the module and the argument.
"""
from __future__ import annotations

import ast
import re
import textwrap
import warnings
from dataclasses import dataclass, field, fields
from typing import Any

from .analysis import analyse
from .import_blocks import Module, in_printed_order, may_reuse_pool, to_nodes
from .spec import LAYER_TYPES, MAX_LAYERS, MAX_NODES, MAX_SIZE, ArchitectureError, Network, from_json
from .text import MAX_MODEL_TEXT

MAX_TEXT = MAX_MODEL_TEXT   # characters of model text (explorer/text.py: the editor's box reads it too)
MAX_INT = 10**12     # largest integer literal or intermediate result
MAX_DEPTH = 32       # nesting of Sequentials and of expressions
MAX_NAME = 40        # longest child name kept as a layer name
MAX_MODULES = MAX_NODES  # modules in a print(model) tree (DenseNet-121 has 433; the graph adds merges)


@dataclass(frozen=True)
class _Module:
    """How one torch.nn module maps to a spec layer."""

    type: str | None                    # spec layer type; None: dropped (changes no shape or count)
    args: tuple[str, ...] = ()          # torch's positional order
    required: int = 0                   # how many of `args` have no default
    keywords: tuple[str, ...] = ()      # keyword-only arguments
    ignored: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # unmodelled: accepted values
    any_args: bool = False              # takes *args, **kwargs and ignores them
    words: tuple[str, ...] = ()         # arguments print(model) writes as bare words (mode=row)
    defaults: dict[str, Any] = field(default_factory=dict)  # PyTorch defaults left out of the layer


_DEVICE = {"device": (None,), "dtype": (None,)}
_INPLACE = {"inplace": (False, True)}

MODULES: dict[str, _Module] = {
    "Conv2d": _Module("conv2d", ("in_channels", "out_channels", "kernel_size", "stride", "padding",
                                 "dilation", "groups", "bias", "padding_mode", "device", "dtype"),
                      3, ignored={"padding_mode": ("zeros",), **_DEVICE}),
    "BatchNorm2d": _Module("batchnorm2d", ("num_features", "eps", "momentum", "affine",
                                           "track_running_stats", "device", "dtype"),
                           1, ("bias",), {"bias": (True,), **_DEVICE}, defaults={"track_running_stats": True}),
    "ReLU": _Module("relu", ("inplace",), ignored=_INPLACE),
    "LeakyReLU": _Module("leaky_relu", ("negative_slope", "inplace"), ignored=_INPLACE),
    "ReLU6": _Module("relu6", ("inplace",), ignored=_INPLACE),
    "SiLU": _Module("silu", ("inplace",), ignored=_INPLACE),
    "Hardswish": _Module("hardswish", ("inplace",), ignored=_INPLACE),
    "Hardsigmoid": _Module("hardsigmoid", ("inplace",), ignored=_INPLACE),
    "GELU": _Module("gelu", ("approximate",), words=("approximate",)),
    "Sigmoid": _Module("sigmoid", any_args=True),
    "Tanh": _Module("tanh", any_args=True),
    "MaxPool2d": _Module("maxpool2d", ("kernel_size", "stride", "padding", "dilation", "return_indices",
                                       "ceil_mode"),
                         1, ignored={"dilation": (1, (1, 1)), "return_indices": (False,)},
                         defaults={"ceil_mode": False}),
    "AvgPool2d": _Module("avgpool2d", ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                                       "divisor_override"),
                         1, ignored={"divisor_override": (None,)},
                         defaults={"ceil_mode": False, "count_include_pad": True}),
    "AdaptiveAvgPool2d": _Module("adaptive_avgpool2d", ("output_size",), 1),
    "AdaptiveMaxPool2d": _Module("adaptive_maxpool2d", ("output_size", "return_indices"), 1,
                                 ignored={"return_indices": (False,)}),
    "StochasticDepth": _Module("stochastic_depth", ("p", "mode"), 2, words=("mode",)),
    "Dropout": _Module("dropout", ("p", "inplace"), ignored=_INPLACE),
    "Flatten": _Module("flatten", ("start_dim", "end_dim"), ignored={"start_dim": (1,), "end_dim": (-1,)}),
    "Linear": _Module("linear", ("in_features", "out_features", "bias", "device", "dtype"), 2, ignored=_DEVICE),
    "Identity": _Module("identity", any_args=True),  # dropped from a plain Sequential, kept in a graph
}
SUPPORTED = ", ".join(["Sequential", *MODULES])

_CHILD = re.compile(r"^(\s*)\((.*?)\): (.*)$")            # "  (conv1): Conv2d(3, 8, ..."
_SEP = r"(?:\s*[x×X*,]\s*|\s+)"
_INPUT = re.compile(rf"^\s*[(\[]?\s*(\d{{1,9}}){_SEP}(\d{{1,9}}){_SEP}(\d{{1,9}})\s*[)\]]?\s*$")
_ARITHMETIC = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
               ast.Mult: lambda a, b: a * b, ast.FloorDiv: lambda a, b: a // b, ast.Pow: pow}


class _Name(str):
    """A bare name used as a value: print(model) writes strings unquoted (`padding_mode=reflect`)."""


def parse_input_size(text: str) -> tuple[int, int, int]:
    """`"3x32x32"` (or `3×32×32`, `3,32,32`, `3 32 32`) → `(3, 32, 32)`."""
    match = _INPUT.match(text or "")
    if not match:
        shown = text if len(text or "") <= 30 else text[:27] + "…"
        raise ArchitectureError(f"--input must be channels×height×width such as 3x32x32, got \"{shown}\"")
    sizes = tuple(int(g) for g in match.groups())
    if not all(1 <= s <= MAX_SIZE for s in sizes):
        raise ArchitectureError(f"--input {'x'.join(map(str, sizes))}: each size must be between 1 and "
                                f"{MAX_SIZE:,}")
    return sizes  # type: ignore[return-value]


def import_text(text: str, input_shape: tuple[int, int, int], name: str = "Imported model") -> Network:
    """Read a model's text and return the validated Network (fields, then shapes)."""
    return import_model(text, input_shape, name)[0]


def import_model(text: str, input_shape: tuple[int, int, int], name: str = "Imported model"
                 ) -> tuple[Network, list[str]]:
    """Read a model's text; return the validated Network and notes on what was assumed.

    An nn.Sequential of plain layers gives a flat network, exactly as before graphs existed
    (and no notes). Anything else is read as a module tree and turned into graph nodes by
    `explorer.import_blocks` (docs/design.md, "Graph networks"), with a note for every
    assumption the print-out cannot confirm.
    """
    if not isinstance(text, str):
        raise ArchitectureError("the model text must be a string")
    if len(input_shape) != 3:
        raise ArchitectureError("the input size must be (channels, height, width)")
    label = name.strip() if isinstance(name, str) and name.strip() else "Imported model"
    try:
        source, keys = _source(text)
        model = _print_tree(source, keys) if keys else None
        if model is None or _is_chain(model):
            call = _top_call(_parse(source))
            hidden = _hidden_settings(call) if keys else []
            if _callee(call.func) == "Sequential" and _plain(call, keys, 0):
                return _flat(call, keys, input_shape, label), hidden
            model = _tree(call, keys, "", 0, [0])
        else:
            hidden = _hidden_in_tree(model)
    except RecursionError:
        raise ArchitectureError("the model text is nested too deeply to read") from None
    network, notes = _graph(model, input_shape, label)
    return network, notes + hidden


def _print_tree(source: str, keys: dict[int, str]) -> Module | None:
    """The module tree of well-formed print(model) output, read line by line.

    A fast path for big print-outs (DenseNet-121 has 1,800 leaf lines, most of them repeated):
    each distinct leaf line is parsed once. Anything unusual, including every error, returns
    None so that the full reader (`_tree` over one syntax tree) handles it and reports it.
    """
    stack: list[Module] = []
    root: Module | None = None
    leaves: dict[str, Module] = {}
    count = 0
    for number, raw in enumerate(source.splitlines(), start=1):
        line = raw.strip().rstrip(",")
        if not line:
            continue
        if line == ")":
            if not stack:
                return None
            stack.pop()
            continue
        if root is not None and not stack:
            return None  # text after the model
        count += 1
        if count > MAX_MODULES or len(stack) > MAX_DEPTH:
            return None
        parent = stack[-1] if stack else None
        key = keys.get(number) if parent is not None else None
        if (key is None) != (parent is None):
            return None
        path = parent.child_path(key) if parent is not None and key is not None else ""
        if line.endswith("("):
            kind = line[:-1]
            if not kind.isidentifier():
                return None
            module = Module(cls=kind, path=path, line=number)
        else:
            template = leaves.get(line)
            if template is None:
                template = _leaf_line(line)
                if template is None:
                    return None
                leaves[line] = template
            layer = dict(template.layer) if template.layer is not None else None
            module = Module(cls=template.cls, path=path, line=number, layer=layer, supported=template.supported)
        if parent is None:
            root = module
        else:
            if key in parent.children:
                return None
            parent.children[key] = module  # type: ignore[index]
        if line.endswith("("):
            stack.append(module)
    return root if root is not None and not stack else None


def _leaf_line(line: str) -> Module | None:
    """One printed leaf such as `Conv2d(3, 64, kernel_size=(7, 7), ...)` → a Module, or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(line, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    call = tree.body
    if not isinstance(call, ast.Call) or _has_children(call):
        return None
    try:
        return _tree(call, {}, "", 0, [0])
    except ArchitectureError:
        return None


def _is_chain(model: Module) -> bool:
    """A Sequential of Sequentials and layers: the flat import reads it, as before graphs."""
    if model.cls != "Sequential":
        return False
    return all(child.layer is not None or not child.supported or _is_chain(child)
               for child in model.children.values())


def _hidden_in_tree(model: Module) -> list[str]:
    """`_hidden_settings` for a tree read by `_print_tree`."""
    lines, stack = [], [model]
    while stack:
        module = stack.pop()
        if module.cls == "AvgPool2d" and module.layer is not None \
                and not {"ceil_mode", "count_include_pad"} & set(module.layer):
            lines.append(module.line)
        stack.extend(module.children.values())
    return _avgpool_note(lines)


def _hidden_settings(call: ast.Call) -> list[str]:
    """Notes on settings print(model) leaves out (AvgPool2d shows neither ceil_mode nor count_include_pad)."""
    lines, stack = [], [call]
    while stack:  # ast.walk, without its lazy `import collections`
        node = stack.pop()
        stack.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "AvgPool2d" \
                and not {"ceil_mode", "count_include_pad"} & {kw.arg for kw in node.keywords}:
            lines.append(node.lineno)
    return _avgpool_note(lines)


def _avgpool_note(lines: list[int]) -> list[str]:
    if not lines:
        return []
    return [f"line {min(lines)}: print(model) does not show AvgPool2d's ceil_mode and count_include_pad; "
            "assumed PyTorch's defaults (False, True)"]


def read_modules(text: str) -> Module:
    """print(model) text (or a module expression) → its module tree, read but never run."""
    if not isinstance(text, str):
        raise ArchitectureError("the model text must be a string")
    try:
        source, keys = _source(text)
        fast = _print_tree(source, keys) if keys else None
        return fast if fast is not None else _tree(_top_call(_parse(source)), keys, "", 0, [0])
    except RecursionError:
        raise ArchitectureError("the model text is nested too deeply to read") from None


def _flat(call: ast.Call, keys: dict[int, str], input_shape: tuple[int, int, int], label: str) -> Network:
    """An nn.Sequential of layers (nested Sequentials flattened in order) → a flat Network."""
    found: list[tuple[dict[str, Any], int, str | None]] = []
    _children(call, keys, found, 0)
    if not found:
        raise ArchitectureError(f"line {call.lineno}: the Sequential has no layers; "
                                "add modules such as nn.Conv2d(3, 16, 3)")
    layers = _name_layers(found)
    c, h, w = input_shape
    data = {"name": label, "input": {"channels": c, "height": h, "width": w}, "layers": layers}
    try:
        network = from_json(data)
        analyse(network)
    except ArchitectureError as exc:
        raise _at_line(exc, [line for _, line, _ in found]) from None
    return network


def _graph(model: Module, input_shape: tuple[int, int, int], label: str) -> tuple[Network, list[str]]:
    """A module tree → a validated graph Network, via the class semantics of `import_blocks`."""
    c, h, w = input_shape

    def build(reuse_pool: bool) -> tuple[Network, list[str]]:
        layers, notes, lines = to_nodes(model, reuse_pool, ", ".join(MODULES))
        if not layers:
            raise ArchitectureError(f"line {model.line}: {model.cls} has no layers; "
                                    "add modules such as nn.Conv2d(3, 16, 3)")
        data = {"name": label, "input": {"channels": c, "height": h, "width": w}, "layers": layers}
        try:
            network = from_json(data)
            analyse(network)
        except ArchitectureError as exc:
            raise _at_name(exc, lines) from None
        return network, notes

    try:
        try:
            return build(False)
        except ArchitectureError as first:
            if not may_reuse_pool(model):
                raise
            try:  # one pooling module applied after every convolution (the CIFAR-10 tutorial's Net)
                return build(True)
            except ArchitectureError:
                raise first from None
    except ArchitectureError as exc:
        if not in_printed_order(model) or "in_features is" not in str(exc):
            raise
        hinted = ArchitectureError(exc.reason, index=exc.index, name=exc.layer_name, field=exc.field)
        hinted.args = (f"{exc}; or forward() pools or reshapes with a function (F.max_pool2d, x.view), which "
                       "print(model) does not show: add that layer to the JSON",)
        raise hinted from None


def _at_name(exc: ArchitectureError, lines: dict[str, int]) -> ArchitectureError:
    """The same error, its message prefixed with the source line of the node it names."""
    line = lines.get(exc.layer_name or "")
    if line is None or str(exc).startswith("line "):
        return exc
    located = ArchitectureError(exc.reason, index=exc.index, name=exc.layer_name, field=exc.field)
    located.args = (f"line {line}: {located}",)
    return located


def _plain(call: ast.Call, keys: dict[int, str], depth: int) -> bool:
    """True for a Sequential whose modules are Sequentials and leaves only (the flat import)."""
    if depth > MAX_DEPTH:
        return True  # _children reports the depth
    for _, node in _module_args(call, keys):
        if isinstance(node, ast.Call) and _is_module(node) and _callee(node.func) != "Sequential":
            if _has_children(node):
                return False
        elif isinstance(node, ast.Call) and _is_module(node) and not _plain(node, keys, depth + 1):
            return False
    return True


def _is_module(node: ast.Call) -> bool:
    try:
        _callee(node.func)
    except ArchitectureError:
        return False
    return True


def _has_children(call: ast.Call) -> bool:
    """A call with module calls among its positional arguments (a container), or an OrderedDict."""
    return any(isinstance(a, ast.Call) for a in call.args)


def _module_args(call: ast.Call, keys: dict[int, str]) -> list[tuple[str | None, ast.expr]]:
    try:
        return _named_args(call, keys)
    except ArchitectureError:
        return []


def _tree(call: ast.Call, keys: dict[int, str], path: str, depth: int, count: list[int]) -> Module:
    """A module call → a Module (containers with their children; leaves with their §2 layer)."""
    if depth > MAX_DEPTH:
        raise ArchitectureError(f"line {call.lineno}: modules are nested more than {MAX_DEPTH} deep")
    count[0] += 1
    if count[0] > MAX_MODULES:
        raise ArchitectureError(f"line {call.lineno}: more than {MAX_MODULES:,} modules; the explorer supports "
                                "at most that many")
    kind = _callee(call.func)
    module = Module(cls=kind, path=path, line=call.lineno)
    if kind in MODULES and not _has_children(call):
        module.layer = _layer(kind, call)
        return module
    if not _has_children(call) and kind != "Sequential":
        module.supported = False
        return module
    if call.keywords:
        raise ArchitectureError(f"line {call.lineno}: {kind} takes its modules as positional arguments, "
                                f"not {call.keywords[0].arg or '**'}=")
    for i, (key, node) in enumerate(_named_args(call, keys)):
        if isinstance(node, ast.Starred):
            raise ArchitectureError(f"line {node.lineno}: {kind}(*...) is not supported; "
                                    "list the layers one by one")
        if not isinstance(node, ast.Call):
            raise ArchitectureError(f"line {node.lineno}: expected a module such as nn.ReLU(), "
                                    f"found {_show(node)}")
        key = key if key is not None else str(i)
        if key in module.children:
            raise ArchitectureError(f"line {node.lineno}: {kind} has two children named {key}")
        module.children[key] = _tree(node, keys, f"{path}.{key}" if path else key, depth + 1, count)
    return module


# ---------------------------------------------------------------------------------------
# Text → AST

def _source(text: str) -> tuple[str, dict[int, str]]:
    """Python source for `text`, and the child name print(model) gave each line.

    print(model) output becomes a call expression line for line: "(conv1): " prefixes are
    cut off (and remembered) and children get a trailing comma, so line numbers stay true.
    """
    if len(text) > MAX_TEXT:
        raise ArchitectureError(f"the model text is {len(text):,} characters; the importer reads at most "
                                f"{MAX_TEXT:,}")
    if not text.strip():
        raise ArchitectureError("the model text is empty; paste what print(model) shows or an "
                                "nn.Sequential(...) expression")
    lines = textwrap.dedent(text).splitlines()
    if not any(line[:1].isspace() and _CHILD.match(line) for line in lines):
        return "\n".join(lines), {}
    keys: dict[int, str] = {}
    out = []
    for number, line in enumerate(lines, start=1):
        match = _CHILD.match(line)
        if match:
            indent, keys[number], rest = match.groups()
            line = indent + rest
        line = line.rstrip()
        if line[:1].isspace() and line.endswith(")"):
            line += ","
        out.append(line)
    return "\n".join(out), keys


def _parse(source: str) -> ast.Module:
    """`ast.parse` only: builds a syntax tree, runs nothing."""
    try:
        with warnings.catch_warnings():  # "invalid decimal literal" and the like: the error says it all
            warnings.simplefilter("ignore")
            return ast.parse(source)
    except SyntaxError as exc:
        raise ArchitectureError(f"line {exc.lineno or 1}: this is neither print(model) output nor an "
                                f"nn.Sequential(...) expression ({exc.msg})") from None
    except (ValueError, RecursionError, MemoryError, OverflowError):
        raise ArchitectureError("the model text is nested too deeply or is too large to read") from None


def _top_call(tree: ast.Module) -> ast.Call:
    """The one `Sequential(...)` (optionally `model = ...`); torch imports are skipped, not run."""
    body = [stmt for stmt in tree.body if not _is_torch_import(stmt)]
    for stmt in body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            raise ArchitectureError(f"line {stmt.lineno}: {_show(stmt)} is not allowed; the importer reads "
                                    "nn modules and imports nothing")
    if not body:
        raise ArchitectureError("no model found; paste what print(model) shows or an nn.Sequential(...)")
    if len(body) > 1:
        raise ArchitectureError(f"line {body[1].lineno}: expected a single nn.Sequential(...), "
                                f"found a second statement")
    stmt = body[0]
    node: ast.AST | None = None
    if isinstance(stmt, ast.Expr):
        node = stmt.value
    elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        node = stmt.value
    if not isinstance(node, ast.Call):
        raise ArchitectureError(
            f"line {stmt.lineno}: the model must be an nn.Sequential(...) or what print(model) shows, found "
            f"{_show(node or stmt)}")
    _callee(node.func)  # only nn modules (or the printed class names) can be called
    return node


def _is_torch_import(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Import):
        return all(a.name in ("torch", "torch.nn", "collections") for a in stmt.names)
    return isinstance(stmt, ast.ImportFrom) and stmt.module in ("torch", "torch.nn", "collections")


# ---------------------------------------------------------------------------------------
# AST → layer objects

def _callee(func: ast.expr) -> str:
    """`nn.Conv2d`, `torch.nn.Conv2d` or `Conv2d` → "Conv2d"; anything else is an error."""
    parts, node = [], func
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise ArchitectureError(f"line {func.lineno}: only nn modules can be called; {_show(func)} is not one")
    dotted = ".".join([node.id, *reversed(parts)])
    prefix, _, last = dotted.rpartition(".")
    if prefix not in ("", "nn", "torch.nn"):
        raise ArchitectureError(f"line {func.lineno}: {dotted} is not an nn module; only nn.X, torch.nn.X "
                                "or X can be called")
    return last


def _children(call: ast.Call, keys: dict[int, str], found: list, depth: int) -> None:
    """Append the layers of a Sequential call to `found`, nested Sequentials flattened in order."""
    if depth > MAX_DEPTH:
        raise ArchitectureError(f"line {call.lineno}: Sequentials are nested more than {MAX_DEPTH} deep")
    if call.keywords:
        raise ArchitectureError(f"line {call.lineno}: Sequential takes its layers as positional arguments, "
                                f"not {call.keywords[0].arg or '**'}=")
    for key, node in _named_args(call, keys):
        if isinstance(node, ast.Starred):
            raise ArchitectureError(f"line {node.lineno}: Sequential(*...) is not supported; "
                                    "list the layers one by one")
        if not isinstance(node, ast.Call):
            raise ArchitectureError(f"line {node.lineno}: expected a module such as nn.ReLU(), "
                                    f"found {_show(node)}")
        kind = _callee(node.func)
        if kind == "Sequential":
            _children(node, keys, found, depth + 1)
        elif kind in MODULES:
            layer = _layer(kind, node)
            if layer is not None and layer["type"] != "identity":  # a no-op in a chain
                found.append((layer, node.lineno, key))
            if len(found) > MAX_LAYERS:
                raise ArchitectureError(f"line {node.lineno}: more than {MAX_LAYERS:,} layers; "
                                        "the explorer supports at most that many")
        else:
            raise ArchitectureError(f"line {node.lineno}: {kind} is not supported; the importer reads "
                                    f"{SUPPORTED}")


def _named_args(call: ast.Call, keys: dict[int, str]) -> list[tuple[str | None, ast.expr]]:
    """Children with their names: print(model)'s "(name):" or OrderedDict([("name", module), ...])."""
    if len(call.args) == 1 and isinstance(call.args[0], ast.Call) and _is_ordered_dict(call.args[0].func):
        inner = call.args[0]
        items = inner.args[0] if len(inner.args) == 1 and not inner.keywords else None
        if not isinstance(items, (ast.List, ast.Tuple)):
            raise ArchitectureError(f"line {inner.lineno}: OrderedDict needs a list of (\"name\", module) pairs")
        pairs = []
        for item in items.elts:
            if not (isinstance(item, ast.Tuple) and len(item.elts) == 2 and isinstance(item.elts[0], ast.Constant)
                    and isinstance(item.elts[0].value, str)):
                raise ArchitectureError(f"line {item.lineno}: OrderedDict items must be (\"name\", module) pairs")
            pairs.append((item.elts[0].value, item.elts[1]))
        return pairs
    return [(keys.get(node.lineno), node) for node in call.args]


def _is_ordered_dict(func: ast.expr) -> bool:
    return ((isinstance(func, ast.Name) and func.id == "OrderedDict")
            or (isinstance(func, ast.Attribute) and func.attr == "OrderedDict"
                and isinstance(func.value, ast.Name) and func.value.id == "collections"))


def _layer(kind: str, call: ast.Call) -> dict[str, Any] | None:
    """One module call → a §2 layer object (None for modules that are dropped)."""
    module, where = MODULES[kind], f"line {call.lineno}: {kind}"
    allowed = module.args + module.keywords
    if len(call.args) > len(module.args) and not module.any_args:
        raise ArchitectureError(f"{where} takes at most {len(module.args)} positional arguments "
                                f"({', '.join(module.args) or 'none'}), got {len(call.args)}")
    values: dict[str, Any] = {}
    for i, node in enumerate(call.args):
        arg = module.args[i] if i < len(module.args) else f"argument {i + 1}"
        values[arg] = _value(node, f"line {node.lineno}: {kind} {arg}", 0)
    for kw in call.keywords:
        if kw.arg is None:
            raise ArchitectureError(f"{where}: **kwargs is not supported; write each argument")
        if kw.arg not in allowed and not module.any_args:
            raise ArchitectureError(f"{where}: unknown argument {kw.arg}; {kind} takes {', '.join(allowed)}")
        if kw.arg in values:
            raise ArchitectureError(f"{where}: {kw.arg} is given twice")
        values[kw.arg] = _value(kw.value, f"line {kw.value.lineno}: {kind} {kw.arg}", 0)
    if module.type is None:
        return None
    missing = [arg for arg in module.args[:module.required] if arg not in values]
    if missing:
        raise ArchitectureError(f"{where} needs {missing[0]}")
    if kind == "BatchNorm2d" and values.get("affine") is False and values.get("bias") is False:
        del values["bias"]  # torch 2.13 prints bias=False for every affine=False BatchNorm2d
    if kind == "Conv2d" and isinstance(values.get("padding"), str):
        values["padding"] = _conv_padding(values, where)
    return _to_fields(module, values, where)


def _to_fields(module: _Module, values: dict[str, Any], where: str) -> dict[str, Any]:
    """Check the unmodelled arguments and map the rest onto spec fields."""
    for arg, accepted in module.ignored.items():
        if arg in values:
            value = values.pop(arg)
            if not any(_same(value, a) for a in accepted):
                raise ArchitectureError(f"{where}: {arg}={_literal(value)} is not supported; the explorer "
                                        f"models only {arg}={_literal(accepted[0])}")
    spec = LAYER_TYPES.get(module.type)  # type: ignore[arg-type]
    defaults = {f.name: f.default for f in fields(spec)} if spec is not None else {}
    layer: dict[str, Any] = {"type": module.type}
    for arg, value in values.items():
        if arg in module.words and isinstance(value, _Name):
            value = str(value)
        if arg in module.defaults and _same(value, module.defaults[arg]):
            continue
        parts = value if isinstance(value, tuple) else (value,)
        if any(isinstance(v, _Name) for v in parts):
            raise ArchitectureError(f"{where}: {arg}={_literal(value).replace(chr(39), '')} is a name, not a "
                                    "value; the importer does not run code, so write the number")
        if isinstance(value, tuple) and None in value:
            raise ArchitectureError(f"{where}: {arg}={_literal(value)} is not supported; write every size")
        if value is None:
            if defaults.get(arg, 0) is not None:
                raise ArchitectureError(f"{where}: {arg}=None is not supported")
            continue
        layer[arg] = _jsonable(value)
    return layer


def _conv_padding(values: dict[str, Any], where: str) -> Any:
    """padding='valid' → 0; padding='same' → the symmetric padding that keeps the size."""
    mode = values["padding"]
    if mode == "valid":
        return 0
    if mode != "same":
        raise ArchitectureError(f"{where}: padding={_literal(mode)} is not supported; use a number, (h, w), "
                                "'same' or 'valid'")
    kernel, dilation, stride = (_pair(values.get(a, 1)) for a in ("kernel_size", "dilation", "stride"))
    if kernel is None or dilation is None or stride is None:
        raise ArchitectureError(f"{where}: padding='same' needs whole-number kernel_size, stride and dilation")
    if stride != (1, 1):
        raise ArchitectureError(f"{where}: padding='same' needs stride=1 (PyTorch refuses it otherwise)")
    totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
    if any(t % 2 for t in totals):
        raise ArchitectureError(f"{where}: padding='same' with kernel_size {kernel} pads one side more than the "
                                "other; the explorer models symmetric padding only")
    return [t // 2 for t in totals]


# ---------------------------------------------------------------------------------------
# Values

def _value(node: ast.expr, where: str, depth: int) -> Any:
    """A literal value: number, string, True/False/None, tuple/list, or + - * // ** on integers."""
    if depth > MAX_DEPTH:
        raise ArchitectureError(f"{where}: the expression is nested too deeply")
    if isinstance(node, ast.Constant) and type(node.value) in (int, float, bool, str, type(None)):
        return _checked(node.value, where)
    if isinstance(node, ast.Name):
        return _Name(node.id)
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_value(e, where, depth + 1) for e in node.elts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _number(node.operand, where, depth)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        a, b = _number(node.left, where, depth), _number(node.right, where, depth)
        if isinstance(node.op, (ast.FloorDiv, ast.Pow)) and not (type(a) is int and type(b) is int):
            raise ArchitectureError(f"{where}: // and ** take whole numbers")
        if isinstance(node.op, ast.FloorDiv) and b == 0:
            raise ArchitectureError(f"{where}: division by zero")
        if isinstance(node.op, ast.Pow) and not 0 <= b <= 64:
            raise ArchitectureError(f"{where}: {_show(node)} is too large; numbers may be at most {MAX_INT:,}")
        return _checked(_ARITHMETIC[type(node.op)](a, b), where, node)
    raise ArchitectureError(f"{where}: {_show(node)} is not a literal value; the importer reads numbers, "
                            "tuples, True/False/None, strings and + - * // on numbers, and runs nothing")


def _number(node: ast.expr, where: str, depth: int) -> int | float:
    value = _value(node, where, depth + 1)
    if type(value) not in (int, float):
        raise ArchitectureError(f"{where}: arithmetic needs numbers, got {_show(node)}")
    return value


def _checked(value: Any, where: str, node: ast.AST | None = None) -> Any:
    if type(value) is int and abs(value) > MAX_INT:
        shown = _show(node) if node is not None else f"{value:,}"
        raise ArchitectureError(f"{where}: {shown} is too large; numbers may be at most {MAX_INT:,}")
    return value


def _same(value: Any, accepted: Any) -> bool:
    """Equality that does not take True for 1."""
    if isinstance(value, tuple) and isinstance(accepted, tuple):
        return len(value) == len(accepted) and all(map(_same, value, accepted))
    if isinstance(value, str) and isinstance(accepted, str):  # "zeros" or zeros (a _Name)
        return str(value) == accepted
    return type(value) is type(accepted) and value == accepted


def _pair(value: Any) -> tuple[int, int] | None:
    if type(value) is int:
        return (value, value)
    if isinstance(value, tuple) and len(value) == 2 and all(type(v) is int for v in value):
        return value  # type: ignore[return-value]
    return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return str(value) if isinstance(value, str) else value


def _literal(value: Any) -> str:
    """A value as it would be written in Python (strings quoted)."""
    if isinstance(value, tuple):
        return "(" + ", ".join(map(_literal, value)) + ")"
    text = repr(str(value)) if isinstance(value, str) else repr(value)
    return text if len(text) <= 30 else text[:27] + "…"


def _show(node: ast.AST) -> str:
    """A short rendering of a syntax node for messages (never evaluated)."""
    try:
        text = ast.unparse(node)
    except (RecursionError, ValueError, AttributeError):
        return type(node).__name__
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "…"


# ---------------------------------------------------------------------------------------
# Names and line numbers

def _name_layers(found: list[tuple[dict[str, Any], int, str | None]]) -> list[dict[str, Any]]:
    """Keep a child's name when it is an identifier of ≤ 40 characters used once; else default naming."""
    counts: dict[str, int] = {}
    for _, _, key in found:
        if key is not None:
            counts[key] = counts.get(key, 0) + 1
    layers = []
    for layer, _, key in found:
        if key and key.isidentifier() and len(key) <= MAX_NAME and key != "Input" and counts[key] == 1:
            layer = {**layer, "name": key}
        layers.append(layer)
    return layers


def _at_line(exc: ArchitectureError, lines: list[int]) -> ArchitectureError:
    """The same error, its message prefixed with the source line of the layer it names."""
    if exc.index is None or not 1 <= exc.index <= len(lines):
        return exc
    located = ArchitectureError(exc.reason, index=exc.index, name=exc.layer_name, field=exc.field)
    located.args = (f"line {lines[exc.index - 1]}: {located}",)
    return located
