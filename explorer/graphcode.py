"""PyTorch source for a graph network: named submodules per block, a forward() with the skips.

Blocks become `nn.Sequential(...)` when they hold only modules, else a class of their own
(named by the block's `module`, e.g. `BasicBlock`; identical blocks share one class).
A parallel is not a module: its branches' layers are attributes of the enclosing block,
as in torchvision, and its merge is written in forward(): `out = out + identity`,
`torch.cat([...], dim=1)`, `identity * scale`. Attribute names are the last component of
a node's dotted module path (`layer1.0.conv1` in `layer1.0` → `conv1`), so an imported
network's `state_dict()` keys equal torchvision's (docs/design.md, "Graph networks").
"""
from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field

from .analysis import Analysis, LayerRecord
from .spec import Block, Node, Parallel, iter_nodes

RESERVED = {"x", "self", "torch", "nn", "OrderedDict"}

STOCHASTIC_DEPTH = '''

class StochasticDepth(nn.Module):
    """torchvision.ops.StochasticDepth: while training, drop the residual branch per sample
    ("row") or per batch ("batch") with probability p, scaling survivors by 1/(1 - p)."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival)
        if survival > 0.0:
            noise.div_(survival)
        return x * noise
'''


def is_identifier(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def attribute_names(nodes: list[Node], names: dict[int, str], owner: str | None) -> dict[int, str]:
    """The attribute name of each node (keyed by id) inside the module `owner` (None: the network).

    A dotted module path inside its owner keeps its last part exactly (`"0"`, `"block1-0"`);
    other names become identifiers (`"my conv"` → `my_conv`). Clashes get `_2`, `_3`, ….
    """
    out: dict[int, str] = {}
    taken: set[str] = set()
    for node in nodes:
        name = names[id(node)]
        if owner is not None and name.startswith(owner + ".") and "." not in name[len(owner) + 1:]:
            attr = name[len(owner) + 1:]
        elif "." in name and name.rsplit(".", 1)[1]:
            attr = name.rsplit(".", 1)[1]
        else:
            attr = re.sub(r"\W", "_", name) or "module"
            if not is_identifier(attr):
                attr = f"m_{attr}"
        base, n = attr, 2
        while attr in taken:
            attr, n = f"{base}_{n}", n + 1
        taken.add(attr)
        out[id(node)] = attr
    return out


def _modules_of(nodes: tuple[Node, ...]) -> list[Node]:
    """The direct submodules of a sequence: its layers and blocks, looking through parallels."""
    found: list[Node] = []
    for node in nodes:
        if isinstance(node, Parallel):
            for branch in node.branches:
                found.extend(_modules_of(branch))
        else:
            found.append(node)
    return found


@dataclass
class _Forward:
    """Writes the statements of one forward(), with fresh local variable names."""

    attrs: dict[int, str]
    lines: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=lambda: set(RESERVED))

    def fresh(self, base: str) -> str:
        name, n = base, 2
        while name in self.used:
            name, n = f"{base}{n}", n + 1
        self.used.add(name)
        return name

    def call(self, node: Node, arg: str) -> str:
        attr = self.attrs[id(node)]
        ref = f"self.{attr}" if is_identifier(attr) else f"getattr(self, {attr!r})"
        return f"{ref}({arg})"

    def sequence(self, nodes: tuple[Node, ...], var: str, *, keep_input: bool, base: str = "out") -> str:
        """Emit `nodes` applied to `var`; returns the variable holding the result. With
        `keep_input`, `var` is still needed later (a parallel's input) and is not reassigned."""
        for node in nodes:
            if isinstance(node, Parallel):
                var = self.parallel(node, var)
                keep_input = False
                continue
            target = self.fresh(base) if keep_input else var
            self.lines.append(f"{target} = {self.call(node, var)}")
            var, keep_input = target, False
        return var

    def parallel(self, node: Parallel, var: str) -> str:
        n = len(node.branches)
        branch_vars: list[str | None] = [None] * n
        for j, branch in enumerate(node.branches):  # shortcuts first: `identity = x`
            if not branch:
                branch_vars[j] = alias = self.fresh("identity")
                self.lines.append(f"{alias} = {var}")
        first: str | None = None
        for j, branch in enumerate(node.branches):
            if not branch:
                continue
            attr = self.attrs[id(branch[0])]
            if node.merge == "concat" and len(branch) == 1 and is_identifier(attr) and attr not in self.used:
                base = attr
            elif node.merge == "multiply" and (first is not None or any(not b for b in node.branches)):
                base = "scale"
            elif node.merge == "add" and first is not None and n == 2:
                base = "identity"                      # a projection shortcut
            else:
                base = "out" if first is None else f"branch{j + 1}"
            result = self.sequence(branch, var, keep_input=True, base=base)
            first = first or result
            branch_vars[j] = result
        names = [v for v in branch_vars if v is not None]
        if node.merge == "add":
            target = first or self.fresh("out")
            self.lines.append(f"{target} = {' + '.join(names)}")
        elif node.merge == "concat":
            target = self.fresh("out")
            self.lines.append(f"{target} = torch.cat([{', '.join(names)}], dim=1)")
        else:
            target = self.fresh("out")
            self.lines.append(f"{target} = {' * '.join(names)}")
        return target


class GraphSource:
    """Builds the classes of a graph network's source file."""

    def __init__(self, analysis: Analysis, network_class: str) -> None:
        self.analysis = analysis
        nodes = list(iter_nodes(analysis.network.layers))
        self.names = {id(n): r.name for n, r in zip(nodes, analysis.records[1:])}
        self.records: dict[int, LayerRecord] = {id(n): r for n, r in zip(nodes, analysis.records[1:])}
        self.network_class = network_class
        self.classes: dict[str, str] = {}      # class body (without its name) → class name
        self.sources: list[str] = []           # class sources in dependency order
        self.ordered_dict = False

    # -- module expressions ------------------------------------------------------------
    def expression(self, node: Node) -> list[str]:
        """The constructor of one submodule, as lines (continuation lines indented by 4)."""
        if isinstance(node, Block):
            if node.module == "Sequential" and not any(isinstance(n, Parallel) for n in node.layers):
                return self.sequential(node)
            return [f"{self.block_class(node)}()"]
        return [self.records[id(node)].pytorch]

    def sequential(self, node: Block) -> list[str]:
        attrs = attribute_names(list(node.layers), self.names, self.names[id(node)])
        keys = [attrs[id(n)] for n in node.layers]
        positional = keys == [str(i) for i in range(len(keys))]
        lines = ["nn.Sequential(" if positional else "nn.Sequential(OrderedDict(["]
        self.ordered_dict |= not positional
        for child, key in zip(node.layers, keys):
            expr = self.expression(child)
            if not positional:
                expr = [f"({key!r}, {expr[0]}", *expr[1:]]
                expr[-1] += ")"
            expr[-1] += ","
            if len(expr) == 1:
                expr[0] += f"  # {self.records[id(child)].shape_text}"
            lines.extend("    " + line for line in expr)
        lines.append(")" if positional else "]))")
        return lines

    # -- classes -----------------------------------------------------------------------
    def block_class(self, node: Block) -> str:
        name = self.names[id(node)]
        last = name.rsplit(".", 1)[-1]
        base = (node.module if node.module != "Sequential"
                else last[0].upper() + last[1:] if is_identifier(last) and last[0].isalpha() else "Block")
        if any(isinstance(n, Parallel) for n in node.layers):
            parent, body = "nn.Module", self.class_body(node.layers, name)
        else:  # a sequence of modules: an nn.Sequential subclass (as torchvision's Conv2dNormActivation)
            parent, body = "nn.Sequential", self.sequential_body(node)
        key = f"{parent}{body}"
        if key in self.classes:
            return self.classes[key]
        taken = set(self.classes.values()) | {self.network_class, "StochasticDepth", "OrderedDict"}
        cls, n = base, 2
        while cls in taken:
            cls, n = f"{base}{n}", n + 1
        self.classes[key] = cls
        self.sources.append(f"class {cls}({parent}):{body}")
        return cls

    def applied_again(self, modules: list[Node], attrs: dict[int, str]) -> dict[int, str]:
        """Layers named `<attr>#n` that repeat a sibling layer exactly (the importer's name for a
        module forward() applies once more, as BasicBlock's relu): id -> the sibling's attribute,
        so forward() calls `self.relu` twice, as torchvision does, instead of a second module."""
        by_attr = {attrs[id(m)]: m for m in modules}
        out: dict[int, str] = {}
        for child in modules:
            base, sep, count = attrs[id(child)].rpartition("#")
            first = by_attr.get(base)
            if (sep and count.isdigit() and first is not None and id(first) not in out
                    and not isinstance(child, Block) and not isinstance(first, Block)
                    and self.records[id(child)].pytorch == self.records[id(first)].pytorch):
                out[id(child)] = base
        return out

    def sequential_body(self, node: Block) -> str:
        """`__init__` of an nn.Sequential subclass holding the block's layers."""
        lines = self.sequential(node)
        lines[0] = "super().__init__(" + lines[0][len("nn.Sequential("):]
        lines[-1] = lines[-1][:-1] + ")" if lines[-1] == "]))" else ")"
        text = "\n".join(f"        {line}" for line in lines)
        return f"\n    def __init__(self) -> None:\n{text}\n"

    def class_body(self, nodes: tuple[Node, ...], owner: str | None, doc: str = "") -> str:
        modules = _modules_of(nodes)
        attrs = attribute_names(modules, self.names, owner)
        again = self.applied_again(modules, attrs)
        attrs.update(again)
        init = []
        for child in modules:
            if id(child) in again:
                continue
            attr = attrs[id(child)]
            expr = self.expression(child)
            if len(expr) == 1:
                expr[0] += f"  # {self.records[id(child)].shape_text}"
            if is_identifier(attr):
                init.append(f"self.{attr} = {expr[0]}")
                init.extend(expr[1:])
            else:
                init.append(f"self.add_module({attr!r}, {expr[0]}")
                init.extend(expr[1:])
                init[-1] = _close_call(init[-1])
        fwd = _Forward(attrs)
        result = fwd.sequence(nodes, "x", keep_input=False)
        fwd.lines.append(f"return {result}")
        init_text = "\n".join(f"        {line}" for line in init)
        fwd_text = "\n".join(f"        {line}" for line in fwd.lines)
        return (f"\n{doc}    def __init__(self) -> None:\n        super().__init__()\n{init_text}\n\n"
                f"    def forward(self, x: torch.Tensor) -> torch.Tensor:\n{fwd_text}\n")


def _close_call(line: str) -> str:
    """Add the closing parenthesis of `self.add_module(...` before a trailing comment."""
    code, sep, comment = line.partition("  # ")
    return f"{code}){sep}{comment}"


def graph_source(analysis: Analysis, cls: str, header: str, main: str) -> str:
    """The whole file for a graph network: header, helper classes, block classes, the network."""
    src = GraphSource(analysis, cls)
    body = src.class_body(analysis.network.layers, None)
    imports = "import torch\nfrom torch import nn\n"
    if src.ordered_dict:
        imports = "from collections import OrderedDict\n\n" + imports
    helper = STOCHASTIC_DEPTH if any(r.type == "stochastic_depth" for r in analysis.records) else ""
    classes = "".join(f"\n\n{text}" for text in src.sources)
    return f"{header}{imports}{helper}{classes}\n\nclass {cls}(nn.Module):{body}{main}"
