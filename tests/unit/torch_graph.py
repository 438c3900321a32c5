"""A PyTorch model built directly from graph JSON, independently of explorer's code.

Only the JSON is shared with the code under test: modules come from the JSON fields, passed
as PyTorch's own keywords with its defaults for the rest; input sizes the JSON leaves out
are left to PyTorch's lazy modules; the forward pass is a small interpreter of blocks and
parallels. Imported JSON states every size, so its model can be built on the meta device. Submodules are registered under the
last part of each node's dotted name, so state_dict keys follow the module paths.
"""
from __future__ import annotations

import torch
from torch import nn

Plan = list  # [("module", key) | ("merge", kind, [Plan, ...])]


def _pair(v):
    return tuple(v) if isinstance(v, list) else v


class StochasticDepth(nn.Module):
    """torchvision.ops.stochastic_depth, written out (its semantics, not explorer's code)."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = torch.empty(size, dtype=x.dtype).bernoulli_(1.0 - self.p)
        return x * noise.div_(1.0 - self.p) if self.p < 1.0 else x * noise


# Every field of a leaf's JSON is a keyword of its torch module (the JSON promises it): a
# field torch does not know fails the test instead of being dropped.
MODULES = {"conv2d": nn.Conv2d, "batchnorm2d": nn.BatchNorm2d, "linear": nn.Linear,
           "maxpool2d": nn.MaxPool2d, "avgpool2d": nn.AvgPool2d, "adaptive_avgpool2d": nn.AdaptiveAvgPool2d,
           "adaptive_maxpool2d": nn.AdaptiveMaxPool2d, "relu": nn.ReLU, "relu6": nn.ReLU6, "silu": nn.SiLU,
           "hardswish": nn.Hardswish, "hardsigmoid": nn.Hardsigmoid, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
           "gelu": nn.GELU, "leaky_relu": nn.LeakyReLU, "identity": nn.Identity, "flatten": nn.Flatten,
           "dropout": nn.Dropout, "stochastic_depth": StochasticDepth}
# Hand-written JSON may leave input sizes to the network: PyTorch's lazy modules infer them.
LAZY = {"conv2d": ("in_channels", nn.LazyConv2d), "batchnorm2d": ("num_features", nn.LazyBatchNorm2d),
        "linear": ("in_features", nn.LazyLinear)}


def leaf(d: dict) -> nn.Module:
    args = {k: _pair(v) for k, v in d.items() if k not in ("type", "name")}
    kind = d["type"]
    if kind in LAZY and LAZY[kind][0] not in args:
        return LAZY[kind][1](**args)
    return MODULES[kind](**args)


class Graph(nn.Module):
    """A block (or the whole network): registered submodules plus a plan for forward()."""

    def __init__(self, nodes: list[dict], owner: str | None, leaves: dict[str, nn.Module]) -> None:
        super().__init__()
        self.plan = self._build(nodes, owner, leaves)

    def _key(self, name: str, owner: str | None) -> str:
        return name[len(owner) + 1:] if owner and name.startswith(owner + ".") else name.replace(".", "_")

    def _build(self, nodes: list[dict], owner: str | None, leaves: dict[str, nn.Module]) -> Plan:
        plan: Plan = []
        for d in nodes:
            if d["type"] == "parallel":
                plan.append(("merge", d["merge"], [self._build(b, owner, leaves) for b in d["branches"]]))
                continue
            key = self._key(d["name"], owner)
            module = Graph(d["layers"], d["name"], leaves) if d["type"] == "block" else leaf(d)
            if d["type"] != "block":
                leaves[d["name"]] = module
            self.add_module(key, module)
            plan.append(("module", key))
        return plan

    def _run(self, plan: Plan, x):
        for step in plan:
            if step[0] == "module":
                x = self._modules[step[1]](x)
                continue
            outs = [self._run(branch, x) for branch in step[2]]
            if step[1] == "add":
                x = sum(outs[1:], outs[0])
            elif step[1] == "concat":
                x = torch.cat(outs, dim=1)
            else:
                x = outs[0]
                for o in outs[1:]:
                    x = x * o
        return x

    def forward(self, x):
        return self._run(self.plan, x)


def model_of(nodes: list[dict]) -> Graph:
    """The model of a list of graph nodes, unsized (no forward pass run)."""
    return Graph(nodes, None, {})


def build(data: dict) -> tuple[Graph, dict[str, nn.Module]]:
    """The model (lazy sizes materialised by one eval-mode pass) and its leaf modules by name."""
    leaves: dict[str, nn.Module] = {}
    model = Graph(data["layers"], None, leaves)
    inp = data["input"]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(2, inp["channels"], inp["height"], inp["width"]))
    return model, leaves
