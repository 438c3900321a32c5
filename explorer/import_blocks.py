"""What a module's forward() does that print(model) does not show: module tree → graph JSON.

`explorer.importer` turns print(model) text into a tree of `Module`s (class, path, children,
and for plain nn layers the §2 layer object). This module turns that tree into the graph
JSON of docs/design.md: `block` nodes mirror the module tree (so generated code has
torchvision's state_dict keys), `parallel` nodes carry the skips, concatenations and gates
that live only in forward(). Each class's semantics is one small function in `SEMANTICS`;
what cannot be known from the text is either assumed with a note or refused with a message
that names the class and the fix.

Naming: nodes keep their module paths (`layer2.0.downsample.0`); a merge is `<block>.add`,
`.concat` or `.multiply`; an op that forward() applies without a module (torch.flatten,
F.relu) is `<block>.<op>`; a module applied a second time (BasicBlock's `relu`) is
`<path>#2`, `#3`…; a name taken already gets the next `#n`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .spec import ArchitectureError

Node = dict[str, Any]


@dataclass
class Module:
    """One module of a print(model) tree."""

    cls: str                                  # PyTorch class name as printed ("BasicBlock")
    path: str                                 # module path as named_modules() gives it ("" for the model)
    line: int                                 # source line of the module in the pasted text
    children: dict[str, Module] = field(default_factory=dict)
    layer: Node | None = None                 # the §2 layer for nn layers the explorer models
    supported: bool = True                    # False: a leaf class the importer does not know

    def child_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    @property
    def where(self) -> str:
        return f"line {self.line}: {self.cls}" + (f" {self.path}" if self.path else "")


Semantics = Callable[[Module, "Builder"], list[Node]]
SEMANTICS: dict[str, Semantics] = {}

# Containers whose forward() runs the children in printed order (nn.Sequential and its
# torchvision subclasses, some of them from older torchvision releases).
SEQUENTIAL = frozenset({"Sequential", "Conv2dNormActivation", "ConvNormActivation", "ConvBNActivation",
                        "ConvBNReLU", "SimpleStemIN", "AnyStage", "BottleneckTransform", "_Transition",
                        "_DenseBlock"})

# Families the importer refuses with a reason instead of a guess.
UNSUPPORTED = {
    "ShuffleNetV2": "its blocks split the channels in two and shuffle them, which the explorer has no layers for",
    "ConvNeXt": "its blocks use LayerNorm over channels and a learned layer scale, which the explorer does not model",
    "VisionTransformer": "it is a vision transformer: attention is outside the explorer's layer set",
    "SwinTransformer": "it is a vision transformer: attention is outside the explorer's layer set",
    "MaxVit": "it is a vision transformer: attention is outside the explorer's layer set",
    "ModuleList": "a ModuleList has no forward(), so the order of its modules is unknown",
    "ModuleDict": "a ModuleDict has no forward(), so the order of its modules is unknown",
}


def semantics(*classes: str) -> Callable[[Semantics], Semantics]:
    """Register the forward() semantics of one or more module classes."""
    def register(fn: Semantics) -> Semantics:
        for cls in classes:
            SEMANTICS[cls] = fn
        return fn
    return register


@dataclass
class Builder:
    """Turns modules into graph nodes, keeping names unique and collecting notes."""

    taken: set[str]                                     # every module path and node name in use
    notes: list[str] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # node name → source line
    uses: dict[str, int] = field(default_factory=dict)   # module path → times applied
    used: set[str] = field(default_factory=set)          # module paths consumed by some node
    layers: str = "the nn layers listed in docs/design.md"  # for messages: the leaf classes read

    # -- nodes ------------------------------------------------------------------------
    def content(self, module: Module) -> list[Node]:
        """The nodes a module's forward() runs, in order (what goes inside its block)."""
        if module.cls in UNSUPPORTED:
            raise ArchitectureError(f"{module.where}: not supported; {UNSUPPORTED[module.cls]}")
        if module.cls in SEQUENTIAL:
            nodes = [node for child in module.children.values() for node in self.node(child)]
        elif module.cls in SEMANTICS:
            nodes = SEMANTICS[module.cls](module, self)
        else:
            raise ArchitectureError(
                f"{module.where} is a custom module: print(model) does not show its forward(), so the order of "
                "its children is unknown; paste an nn.Sequential of its layers, or write the architecture JSON")
        left = [key for key, child in module.children.items() if child.path not in self.used]
        if left:
            raise ArchitectureError(f"{module.where} has a child ({left[0]}) that torchvision's {module.cls} "
                                    "does not have; the importer knows only torchvision's version of it")
        return nodes

    def node(self, module: Module) -> list[Node]:
        """A child as graph nodes: a leaf, or a block named by its path (nothing for an empty Sequential)."""
        self.used.add(module.path)
        if module.layer is not None:
            return [self.leaf(module)]
        if not module.supported:
            raise ArchitectureError(f"{module.where} is not supported; the importer reads {self.layers}, "
                                    "Sequential and torchvision's CNN blocks")
        if module.cls in SEQUENTIAL and not module.children:
            return []
        content = self.content(module)
        block: Node = {"type": "block", "name": module.path, "module": module.cls, "layers": content}
        self.lines[module.path] = module.line
        return [block]

    def leaf(self, module: Module, name: str | None = None) -> Node:
        assert module.layer is not None
        name = name or module.path
        self.lines[name] = module.line
        self.uses[module.path] = self.uses.get(module.path, 0) + 1
        return {"type": module.layer["type"], "name": name,
                **{k: v for k, v in module.layer.items() if k != "type"}}

    def take(self, module: Module, *keys: str) -> list[Node]:
        """The named children in this order; a key ending in "?" may be absent."""
        nodes: list[Node] = []
        for key in keys:
            optional, key = key.endswith("?"), key.rstrip("?")
            child = module.children.get(key)
            if child is None:
                if optional:
                    continue
                raise ArchitectureError(f"{module.where} has no child ({key}); torchvision's {module.cls} has one, "
                                        "so this is another module of the same name: paste an nn.Sequential "
                                        "or write the architecture JSON")
            nodes.extend(self.node(child))
        return nodes

    def again(self, module: Module, key: str) -> Node:
        """A module forward() applies once more (BasicBlock's relu): a leaf named `<path>#n`."""
        child = module.children.get(key)
        if child is None:
            self.take(module, key)  # raises the "no child" error
        assert child is not None
        if child.layer is None:
            raise ArchitectureError(f"{module.where}: its {key} is a {child.cls}, but torchvision's {module.cls} "
                                    f"applies {key} more than once, so it must be one layer such as ReLU")
        count = self.uses.get(child.path, 0)
        if count == 0:
            return self.take(module, key)[0]
        return self.leaf(child, self.unique(f"{child.path}#{count + 1}"))

    def merge(self, module: Module, how: str, branches: list[list[Node]]) -> Node:
        """A parallel node: every branch gets the block's input; outputs merged by `how`."""
        name = self.unique(module.child_path(how))
        self.lines[name] = module.line
        return {"type": "parallel", "name": name, "merge": how, "branches": branches}

    def implicit(self, module: Module, kind: str, name: str, **fields: Any) -> Node:
        """An op forward() applies without a module (torch.flatten, F.relu)."""
        unique = self.unique(module.child_path(name))
        self.lines[unique] = module.line
        return {"type": kind, "name": unique, **fields}

    def unique(self, name: str) -> str:
        base, n = name, 1
        while name in self.taken:
            n += 1
            name = f"{base.split('#')[0]}#{n}"
        self.taken.add(name)
        return name

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


# -------------------------------------------------------------------------------------
# Helpers used by the semantics

def convs(module: Module) -> list[Node]:
    """The Conv2d layers under a module, in printed order."""
    if module.layer is not None:
        return [module.layer] if module.layer["type"] == "conv2d" else []
    return [c for child in module.children.values() for c in convs(child)]


def keeps_shape(module: Module) -> bool:
    """True when a body has stride 1 everywhere and as many output channels as input ones
    (torchvision's `use_res_connect` / `apply_residual` test)."""
    found = convs(module)
    if not found:
        return False
    strides = [c.get("stride", 1) for c in found]
    if any(s not in (1, [1, 1], (1, 1)) for s in strides):
        return False
    return found[0].get("in_channels") == found[-1].get("out_channels")


def residual(module: Module, b: Builder, body: list[Node], key: str) -> list[Node]:
    """`x + body(x)` when the body keeps the shape (torchvision's rule), else `body(x)`."""
    if keeps_shape(module.children[key]):
        return [b.merge(module, "add", [body, []])]
    return body


# -------------------------------------------------------------------------------------
# Whole models (torchvision 0.28 forward())

@semantics("AlexNet", "VGG")
def _alexnet_vgg(m: Module, b: Builder) -> list[Node]:
    return [*b.take(m, "features", "avgpool"), b.implicit(m, "flatten", "flatten"), *b.take(m, "classifier")]


@semantics("ResNet")
def _resnet(m: Module, b: Builder) -> list[Node]:
    return [*b.take(m, "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool"),
            b.implicit(m, "flatten", "flatten"), *b.take(m, "fc")]


@semantics("MobileNetV2")
def _mobilenet_v2(m: Module, b: Builder) -> list[Node]:
    return [*b.take(m, "features"), b.implicit(m, "adaptive_avgpool2d", "avgpool", output_size=1),
            b.implicit(m, "flatten", "flatten"), *b.take(m, "classifier")]


@semantics("MobileNetV3", "EfficientNet", "RegNet")
def _pool_flatten_head(m: Module, b: Builder) -> list[Node]:
    body = ("stem", "trunk_output") if m.cls == "RegNet" else ("features",)
    head = "fc" if m.cls == "RegNet" else "classifier"
    return [*b.take(m, *body, "avgpool"), b.implicit(m, "flatten", "flatten"), *b.take(m, head)]


@semantics("SqueezeNet")
def _squeezenet(m: Module, b: Builder) -> list[Node]:
    return [*b.take(m, "features", "classifier"), b.implicit(m, "flatten", "flatten")]


@semantics("GoogLeNet")
def _googlenet(m: Module, b: Builder) -> list[Node]:
    aux = [key for key in ("aux1", "aux2") if key in m.children]
    for key in aux:
        b.used.add(m.children[key].path)
    if aux:
        b.note(f"GoogLeNet: {' and '.join(aux)} (auxiliary classifiers) left out: they run only in training, on "
               "side outputs, and their parameters are not counted; build with aux_logits=False to match")
    b.note("GoogLeNet: transform_input (on for the pretrained weights) is not shown by print(model); "
           "assumed off")
    return [*b.take(m, "conv1", "maxpool1", "conv2", "conv3", "maxpool2", "inception3a", "inception3b",
                   "maxpool3", "inception4a", "inception4b", "inception4c", "inception4d", "inception4e",
                   "maxpool4", "inception5a", "inception5b", "avgpool"),
            b.implicit(m, "flatten", "flatten"), *b.take(m, "dropout", "fc")]


@semantics("Inception3")
def _inception_v3(m: Module, b: Builder) -> list[Node]:
    if "AuxLogits" in m.children:
        b.used.add(m.children["AuxLogits"].path)
        b.note("Inception3: AuxLogits (auxiliary classifier) left out: it runs only in training, on a side output, "
               "and its parameters are not counted; build with aux_logits=False to match")
    b.note("Inception3: transform_input (on for the pretrained weights) is not shown by print(model); assumed off")
    return [*b.take(m, "Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1",
                   "Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c",
                   "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool", "dropout"),
            b.implicit(m, "flatten", "flatten"), *b.take(m, "fc")]


@semantics("DenseNet")
def _densenet(m: Module, b: Builder) -> list[Node]:
    return [*b.take(m, "features"), b.implicit(m, "relu", "relu"),
            b.implicit(m, "adaptive_avgpool2d", "avgpool", output_size=1),
            b.implicit(m, "flatten", "flatten"), *b.take(m, "classifier")]


@semantics("MNASNet")
def _mnasnet(m: Module, b: Builder) -> list[Node]:
    # forward(): x.mean([2, 3]) — a global average that drops H and W.
    return [*b.take(m, "layers"), b.implicit(m, "adaptive_avgpool2d", "mean", output_size=1),
            b.implicit(m, "flatten", "flatten"), *b.take(m, "classifier")]


# -------------------------------------------------------------------------------------
# Building blocks

@semantics("BasicBlock")
def _basic_block(m: Module, b: Builder) -> list[Node]:
    body = b.take(m, "conv1", "bn1", "relu", "conv2", "bn2")
    return [b.merge(m, "add", [body, b.take(m, "downsample?")]), b.again(m, "relu")]


@semantics("Bottleneck")
def _bottleneck(m: Module, b: Builder) -> list[Node]:
    body = [*b.take(m, "conv1", "bn1", "relu", "conv2", "bn2"), b.again(m, "relu"), *b.take(m, "conv3", "bn3")]
    return [b.merge(m, "add", [body, b.take(m, "downsample?")]), b.again(m, "relu")]


@semantics("InvertedResidual")
def _inverted_residual(m: Module, b: Builder) -> list[Node]:
    key = "conv" if "conv" in m.children else "block"  # MobileNet V2 / V3
    return residual(m, b, b.take(m, key), key)


@semantics("_InvertedResidual")
def _mnasnet_inverted_residual(m: Module, b: Builder) -> list[Node]:
    return residual(m, b, b.take(m, "layers"), "layers")


@semantics("MBConv", "FusedMBConv")
def _mbconv(m: Module, b: Builder) -> list[Node]:
    if not keeps_shape(m.children.get("block", m)):
        b.used.add(m.child_path("stochastic_depth"))  # applied only with the residual
        return b.take(m, "block")
    return [b.merge(m, "add", [b.take(m, "block", "stochastic_depth"), []])]


@semantics("SqueezeExcitation")
def _squeeze_excitation(m: Module, b: Builder) -> list[Node]:
    gate = b.take(m, "avgpool", "fc1", "activation", "fc2", "scale_activation")
    return [b.merge(m, "multiply", [gate, []])]


@semantics("Fire")
def _fire(m: Module, b: Builder) -> list[Node]:
    squeeze = b.take(m, "squeeze", "squeeze_activation")
    return [*squeeze, b.merge(m, "concat", [b.take(m, "expand1x1", "expand1x1_activation"),
                                            b.take(m, "expand3x3", "expand3x3_activation")])]


@semantics("BasicConv2d")
def _basic_conv2d(m: Module, b: Builder) -> list[Node]:
    return [*b.take(m, "conv", "bn"), b.implicit(m, "relu", "relu")]  # F.relu in forward()


@semantics("Inception")
def _inception(m: Module, b: Builder) -> list[Node]:
    return [b.merge(m, "concat", [b.take(m, key) for key in ("branch1", "branch2", "branch3", "branch4")])]


def _avg_pool_branch(m: Module, b: Builder, conv: str) -> list[Node]:
    """Inception v3: F.avg_pool2d(x, 3, stride=1, padding=1), then a 1×1 BasicConv2d."""
    pool = b.implicit(m, "avgpool2d", "avg_pool", kernel_size=3, stride=1, padding=1)
    return [pool, *b.take(m, conv)]


def _max_pool_branch(m: Module, b: Builder) -> list[Node]:
    """Inception v3's reduction blocks: F.max_pool2d(x, 3, stride=2)."""
    return [b.implicit(m, "maxpool2d", "max_pool", kernel_size=3, stride=2)]


@semantics("InceptionA")
def _inception_a(m: Module, b: Builder) -> list[Node]:
    return [b.merge(m, "concat", [b.take(m, "branch1x1"), b.take(m, "branch5x5_1", "branch5x5_2"),
                                  b.take(m, "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"),
                                  _avg_pool_branch(m, b, "branch_pool")])]


@semantics("InceptionB")
def _inception_b(m: Module, b: Builder) -> list[Node]:
    return [b.merge(m, "concat", [b.take(m, "branch3x3"),
                                  b.take(m, "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"),
                                  _max_pool_branch(m, b)])]


@semantics("InceptionC")
def _inception_c(m: Module, b: Builder) -> list[Node]:
    return [b.merge(m, "concat", [
        b.take(m, "branch1x1"), b.take(m, "branch7x7_1", "branch7x7_2", "branch7x7_3"),
        b.take(m, "branch7x7dbl_1", "branch7x7dbl_2", "branch7x7dbl_3", "branch7x7dbl_4", "branch7x7dbl_5"),
        _avg_pool_branch(m, b, "branch_pool")])]


@semantics("InceptionD")
def _inception_d(m: Module, b: Builder) -> list[Node]:
    return [b.merge(m, "concat", [
        b.take(m, "branch3x3_1", "branch3x3_2"),
        b.take(m, "branch7x7x3_1", "branch7x7x3_2", "branch7x7x3_3", "branch7x7x3_4"), _max_pool_branch(m, b)])]


@semantics("InceptionE")
def _inception_e(m: Module, b: Builder) -> list[Node]:
    split = b.take(m, "branch3x3_1")
    split.append(b.merge(m, "concat", [b.take(m, "branch3x3_2a"), b.take(m, "branch3x3_2b")]))
    double = b.take(m, "branch3x3dbl_1", "branch3x3dbl_2")
    double.append(b.merge(m, "concat", [b.take(m, "branch3x3dbl_3a"), b.take(m, "branch3x3dbl_3b")]))
    return [b.merge(m, "concat", [b.take(m, "branch1x1"), split, double, _avg_pool_branch(m, b, "branch_pool")])]


@semantics("_DenseLayer")
def _dense_layer(m: Module, b: Builder) -> list[Node]:
    b.note("DenseNet: _DenseLayer's dropout (drop_rate, F.dropout in forward()) is not shown by print(model); "
           "assumed 0, as torchvision's default (it acts only in training)")
    body = b.take(m, "norm1", "relu1", "conv1", "norm2", "relu2", "conv2")
    return [b.merge(m, "concat", [[], body])]  # _DenseBlock: torch.cat([x, layer(x)], 1)


@semantics("ResBottleneckBlock")
def _res_bottleneck_block(m: Module, b: Builder) -> list[Node]:
    body = b.take(m, "f")
    return [b.merge(m, "add", [body, b.take(m, "proj?")]), *b.take(m, "activation")]


def to_nodes(model: Module, reuse_pool: bool = False, layers: str = ""
             ) -> tuple[list[Node], list[str], dict[str, int]]:
    """A model's module tree → (graph nodes, notes on what was assumed, node name → source line).

    A torchvision model or block class gets its forward() semantics; any other model runs its
    children in printed order (see `printed_order`), and says so in the notes. `layers` names
    the leaf classes the reader knows, for the message about one it does not.
    """
    paths: list[str] = []
    stack = [model]
    while stack:
        module = stack.pop()
        paths.append(module.path)
        stack.extend(module.children.values())
    b = Builder(taken=set(paths), **({"layers": layers} if layers else {}))
    if not in_printed_order(model):
        nodes = b.content(model)
        if model.cls in SEMANTICS:
            b.notes.insert(0, f"read as torchvision's {model.cls}: the skips, concatenations, gates and "
                              "flattens of its forward() are built in")
        return nodes, b.notes, b.lines
    nodes = printed_order(model, b, reuse_pool)
    b.notes[:0] = [f"{model.cls} is not a torchvision model the importer knows: its children are assumed to "
                   "run in printed order",
                   "activations called as functions in forward() (F.relu, torch.sigmoid) are not in print(model) "
                   "and are missing; add them in the editor or the JSON"]
    if reuse_pool:
        pool = model.children[_shared_pool(model) or ""].path
        b.note(f"{pool} is applied after every convolution that follows it ({b.uses[pool]} times), as "
               "`self.pool` is in the PyTorch CIFAR-10 tutorial; in printed order the sizes do not fit")
    return nodes, b.notes, b.lines


def in_printed_order(model: Module) -> bool:
    """True for a model read in printed order (none of the classes whose forward() is known)."""
    return not (model.cls in SEMANTICS or model.cls in SEQUENTIAL or model.cls in UNSUPPORTED)


def may_reuse_pool(model: Module) -> bool:
    """True when `to_nodes(model, reuse_pool=True)` is a different reading worth trying."""
    return in_printed_order(model) and _shared_pool(model) is not None


# -------------------------------------------------------------------------------------
# A model that is none of the above: children in printed order, with notes

SPATIAL_END = ("flatten", "linear")
SHAPELESS = ("dropout", "identity", "relu", "relu6", "leaky_relu", "silu", "gelu", "hardswish", "hardsigmoid",
             "sigmoid", "tanh", "stochastic_depth")  # work on a tensor of any rank, keep its shape
POOLS = ("maxpool2d", "avgpool2d")


def printed_order(model: Module, b: Builder, reuse_pool: bool = False) -> list[Node]:
    """The model's children in printed order, a flatten before the first Linear that meets a
    4-D tensor, and (with `reuse_pool`) its one pooling module applied after every later
    convolution that has none (`self.pool` used twice, as in the PyTorch CIFAR-10 tutorial)."""
    nodes: list[Node] = []
    flat = False
    pool = _shared_pool(model) if reuse_pool else None
    pending = False  # a convolution after the pool that has not been pooled yet
    seen_pool = False
    for key, child in model.children.items():
        new = b.node(child)
        first = _first_leaf(new)
        kind = first["type"] if first else None
        if kind in SHAPELESS:  # classifier = Sequential(Dropout, Linear, ...): what counts is the Linear
            kind = next((leaf["type"] for leaf in _leaves(new) if leaf["type"] not in SHAPELESS), None)
        if pool is not None and pending and kind in ("conv2d", *SPATIAL_END):
            nodes.append(b.again(model, pool))
            pending = False
        if not flat and kind == "linear":
            nodes.append(b.implicit(model, "flatten", "flatten"))
            b.note(f"a flatten is inserted before {child.path} (a Linear after a 4-D tensor: forward() must "
                   "flatten there)")
        if any(leaf["type"] in SPATIAL_END for leaf in _leaves(new)):
            flat = True
        if pool is not None:
            if key == pool:
                seen_pool, pending = True, False
            elif seen_pool and kind == "conv2d":
                pending = True
        nodes.extend(new)
    return nodes


def _shared_pool(model: Module) -> str | None:
    pools = [key for key, c in model.children.items() if c.layer is not None and c.layer["type"] in POOLS]
    return pools[0] if len(pools) == 1 else None


def _leaves(nodes: list[Node]) -> list[Node]:
    out: list[Node] = []
    for node in nodes:
        if node["type"] == "block":
            out.extend(_leaves(node["layers"]))
        elif node["type"] == "parallel":
            for branch in node["branches"]:
                out.extend(_leaves(branch))
        else:
            out.append(node)
    return out


def _first_leaf(nodes: list[Node]) -> Node | None:
    leaves = _leaves(nodes[:1])
    return leaves[0] if leaves else None
