"""A PyTorch model built directly from graph JSON, independently of explorer's code.

Only the JSON is shared with the code under test: modules come from the JSON fields with
PyTorch's own defaults, input sizes are left to PyTorch's lazy modules, and the forward
pass is a small interpreter of blocks and parallels. Submodules are registered under the
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


def leaf(d: dict) -> nn.Module:
    t = d["type"]
    if t == "conv2d":
        return nn.LazyConv2d(d["out_channels"], _pair(d["kernel_size"]), stride=_pair(d.get("stride", 1)),
                             padding=_pair(d.get("padding", 0)), dilation=_pair(d.get("dilation", 1)),
                             groups=d.get("groups", 1), bias=d.get("bias", True))
    if t == "batchnorm2d":
        return nn.LazyBatchNorm2d(eps=d.get("eps", 1e-5), momentum=d.get("momentum", 0.1),
                                  affine=d.get("affine", True),
                                  track_running_stats=d.get("track_running_stats", True))
    if t == "linear":
        return nn.LazyLinear(d["out_features"], bias=d.get("bias", True))
    if t in ("maxpool2d", "avgpool2d"):
        k = _pair(d["kernel_size"])
        kw = dict(stride=_pair(d.get("stride", k)), padding=_pair(d.get("padding", 0)),
                  ceil_mode=d.get("ceil_mode", False))
        if t == "maxpool2d":
            return nn.MaxPool2d(k, **kw)
        return nn.AvgPool2d(k, count_include_pad=d.get("count_include_pad", True), **kw)
    simple = {"relu": nn.ReLU, "relu6": nn.ReLU6, "silu": nn.SiLU, "hardswish": nn.Hardswish,
              "hardsigmoid": nn.Hardsigmoid, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "identity": nn.Identity,
              "flatten": nn.Flatten}
    if t in simple:
        return simple[t]()
    if t == "gelu":
        return nn.GELU(approximate=d.get("approximate", "none"))
    if t == "leaky_relu":
        return nn.LeakyReLU(d.get("negative_slope", 0.01))
    if t == "adaptive_avgpool2d":
        return nn.AdaptiveAvgPool2d(_pair(d["output_size"]))
    if t == "adaptive_maxpool2d":
        return nn.AdaptiveMaxPool2d(_pair(d["output_size"]))
    if t == "dropout":
        return nn.Dropout(d.get("p", 0.5))
    if t == "stochastic_depth":
        return StochasticDepth(d.get("p", 0.0), d.get("mode", "row"))
    raise ValueError(t)


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


def build(data: dict) -> tuple[Graph, dict[str, nn.Module]]:
    """The model (lazy sizes materialised by one eval-mode pass) and its leaf modules by name."""
    leaves: dict[str, nn.Module] = {}
    model = Graph(data["layers"], None, leaves)
    inp = data["input"]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(2, inp["channels"], inp["height"], inp["width"]))
    return model, leaves
