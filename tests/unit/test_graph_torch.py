"""Graph networks against PyTorch models built independently from the same JSON.

`torch_graph.build` makes the reference model from the JSON alone (lazy modules, a small
interpreter of blocks and parallels); explorer's analysis, numpy forward and generated
code are compared with it: shapes of every row, parameters, buffers, torchinfo's MACs,
numerics in eval and train mode, and the generated module's state_dict and outputs.
Examples are few (the torch side is slow); the strategies cover the shapes of graphs.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchinfo = pytest.importorskip("torchinfo")

from hypothesis import HealthCheck, given, settings  # noqa: E402

from explorer.analysis import analyse  # noqa: E402
from explorer.codegen import class_name, module_source  # noqa: E402
from explorer.forward import forward, init_weights, weights_by_name  # noqa: E402
from explorer.spec import from_json  # noqa: E402
from graph_strategies import graph_architectures  # noqa: E402
from torch_graph import build  # noqa: E402

pytestmark = pytest.mark.torch
torch.set_num_threads(1)

SAMPLED = settings(max_examples=25, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
RTOL = 1e-4


def no_randomness(data: dict) -> dict:
    """The same network with every Dropout/StochasticDepth at p=0 (torch and numpy draw differently)."""
    data = copy.deepcopy(data)

    def fix(nodes: list) -> None:
        for node in nodes:
            if node["type"] in ("dropout", "stochastic_depth"):
                node["p"] = 0.0
            for inner in node.get("layers", []):
                fix([inner])
            for branch in node.get("branches", []):
                fix(branch)
    fix(data["layers"])
    return data


def shapes_by_name(model, leaves, x) -> dict[str, tuple]:
    """Output shape (batch dropped) of every leaf and block module, by node name."""
    found: dict[str, tuple] = {}
    names = {id(m): n for n, m in leaves.items()}
    hooks = [m.register_forward_hook(lambda mod, i, o, n=names[id(m)]: found.__setitem__(n, tuple(o.shape[1:])))
             for m in leaves.values()]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return found


def assert_close(ours: np.ndarray, ref: np.ndarray, what: str) -> None:
    assert ours.shape == ref.shape, what
    scale = max(1.0, float(np.abs(ref).max(initial=0.0)))
    np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def load_numpy_weights(leaves, named: dict) -> None:
    for name, state in named.items():
        module = leaves[name]
        torch_state = dict(module.named_parameters(recurse=False))
        torch_state.update({n: t for n, t in module.named_buffers(recurse=False) if n != "num_batches_tracked"})
        assert set(torch_state) == set(state), (name, set(torch_state), set(state))
        for key, value in state.items():
            with torch.no_grad():
                torch_state[key].copy_(torch.from_numpy(value))


def perturb(analysis, weights: list[dict], seed: int) -> list[dict]:
    """Non-trivial BatchNorm state, so eval-mode BN is not an identity."""
    rng = np.random.default_rng(seed)
    for state in weights:
        if "running_mean" in state:
            c = state["running_mean"].shape[0]
            state["running_mean"][:] = rng.normal(0, 0.5, c)
            state["running_var"][:] = rng.uniform(0.5, 2.0, c)
        if "weight" in state and state["weight"].ndim == 1 and "bias" in state:
            c = state["weight"].shape[0]
            state["weight"][:] = rng.uniform(0.5, 1.5, c)
            state["bias"][:] = rng.normal(0, 0.5, c)
    return weights


@SAMPLED
@given(graph_architectures())
def test_shapes_params_buffers_and_macs_equal_torch(data: dict) -> None:
    analysis = analyse(from_json(data))
    model, leaves = build(data)
    inp = data["input"]
    x = torch.zeros(2, inp["channels"], inp["height"], inp["width"])
    found = shapes_by_name(model, leaves, x)
    for r in analysis.leaves:
        assert r.output_shape == found[r.name], r.name
    with torch.no_grad():
        assert analysis.output_shape == tuple(model(x).shape[1:])
    assert analysis.total_params == sum(p.numel() for p in model.parameters())
    assert analysis.total_buffers == sum(b.numel() for n, b in model.named_buffers()
                                         if not n.endswith("num_batches_tracked"))
    info = torchinfo.summary(model, input_size=(1, inp["channels"], inp["height"], inp["width"]), verbose=0,
                             device="cpu")
    assert analysis.total_macs == info.total_mult_adds
    for r in analysis.records:  # subtotals: each block's leaves
        if r.subtotal is not None:
            inside = [q for q in analysis.leaves if r.name in q.path]
            assert r.subtotal.params == sum(q.params for q in inside) and r.subtotal.layers == len(inside)


@SAMPLED
@given(graph_architectures())
def test_numpy_forward_equals_torch_in_eval_and_train_mode(data: dict) -> None:
    data = no_randomness(data)
    analysis = analyse(from_json(data))
    weights = perturb(analysis, init_weights(analysis, 3), 3)
    inp = data["input"]
    x = np.random.default_rng(1).standard_normal((3, inp["channels"], inp["height"], inp["width"])).astype(np.float32)
    for training in (False, True):
        model, leaves = build(data)
        load_numpy_weights(leaves, weights_by_name(analysis, copy.deepcopy(weights)))
        model.train(training)
        ours_weights = copy.deepcopy(weights)
        ours = forward(analysis, ours_weights, x, training=training)
        with torch.no_grad():
            ref = model(torch.from_numpy(x)).numpy()
        assert_close(ours[-1] if not analysis.records[-1].path else ours[_last_top(analysis)], ref,
                     f"output, training={training}")
        if training:  # BatchNorm running statistics were updated the same way
            for name, state in weights_by_name(analysis, ours_weights).items():
                if "running_mean" in state:
                    assert_close(state["running_mean"], leaves[name].running_mean.numpy(), name)
                    assert_close(state["running_var"], leaves[name].running_var.numpy(), name)


def _last_top(analysis) -> int:
    return max(r.index for r in analysis.records if not r.path)


@SAMPLED
@given(graph_architectures())
def test_generated_module_has_the_same_state_dict_and_outputs(data: dict) -> None:
    data = no_randomness(data)
    analysis = analyse(from_json(data))
    namespace: dict = {"__name__": "generated_graph"}
    exec(compile(module_source(analysis), "<generated>", "exec"), namespace)
    generated = namespace[class_name(analysis.network)]()
    reference, _ = build(data)
    state = reference.state_dict()
    if analysis.network.is_flat:  # a flat network keeps the `self.layers = nn.Sequential(...)` contract
        state = {f"layers.{k}": v for k, v in
                 zip(_flat_keys(analysis, state), state.values())}
    ours = {k: tuple(v.shape) for k, v in generated.state_dict().items()}
    assert ours == {k: tuple(v.shape) for k, v in state.items()}
    assert sum(p.numel() for p in generated.parameters()) == analysis.total_params
    generated.load_state_dict(state, strict=True)
    generated.eval()
    reference.eval()
    inp = data["input"]
    x = torch.randn(2, inp["channels"], inp["height"], inp["width"], generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a, b = generated(x.clone()), reference(x.clone())
    assert tuple(a.shape[1:]) == analysis.output_shape
    assert_close(a.numpy(), b.numpy(), "generated vs reference")


def _flat_keys(analysis, state: dict) -> list[str]:
    """`fc2.weight` → `2.weight`: a flat network's layers are numbered in nn.Sequential."""
    index = {r.name: r.index - 1 for r in analysis.leaves}
    return [f"{index[k.rsplit('.', 1)[0]]}.{k.rsplit('.', 1)[1]}" for k in state]


# --------------------------------------------------------------------------- torchvision's ResNets

@pytest.fixture(scope="module")
def torchvision_models():
    torch.library.register_fake = lambda *a, **k: (lambda f: f)  # its compiled ops do not load here
    return pytest.importorskip("torchvision.models")


@pytest.mark.parametrize("depth, size", [(18, 64), (50, 32)])
def test_resnet_json_matches_torchvision(torchvision_models, depth: int, size: int) -> None:
    """Hand-written ResNet JSON: params, MACs, output shape; the generated module loads
    torchvision's state_dict strictly and computes what torchvision computes, and so does
    the numpy engine with torchvision's weights."""
    from graph_examples import resnet
    data = resnet(depth, size, classes=10)
    analysis = analyse(from_json(data))
    ref = getattr(torchvision_models, f"resnet{depth}")(num_classes=10).eval()
    with torch.no_grad():  # non-trivial BN statistics
        for m in ref.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    assert analysis.total_params == sum(p.numel() for p in ref.parameters())
    info = torchinfo.summary(ref, input_size=(1, 3, size, size), verbose=0, device="cpu")
    assert analysis.total_macs == info.total_mult_adds
    namespace: dict = {"__name__": "generated_resnet"}
    exec(compile(module_source(analysis), "<generated>", "exec"), namespace)
    generated = namespace[class_name(analysis.network)]().eval()
    generated.load_state_dict(ref.state_dict(), strict=True)
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = ref(x).numpy()
        assert_close(generated(x).numpy(), expected, "generated")
    state = {k: v.numpy().copy() for k, v in ref.state_dict().items()}
    weights = [{key: state[f"{r.name}.{key}"] for key in w} for r, w in zip(analysis.leaves, init_weights(analysis))]
    assert_close(forward(analysis, weights, x.numpy())[-1], expected, "numpy engine")
