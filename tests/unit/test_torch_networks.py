"""Whole networks against PyTorch: the generated module, shapes, parameters, buffers, MACs, numerics.

Each random valid architecture is turned into PyTorch by executing the source that
`explorer.codegen.module_source` generates (our own generated code: running it is the
point of the test), then compared with `explorer.analysis` and `explorer.forward`.
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from explorer.analysis import analyse  # noqa: E402
from explorer.codegen import class_name, module_source  # noqa: E402
from explorer.forward import forward, init_weights  # noqa: E402
from explorer.spec import BatchNorm2d, Dropout, default_network, from_json  # noqa: E402
from strategies import valid_architectures  # noqa: E402

pytestmark = pytest.mark.torch

torch.set_num_threads(1)  # small tensors: threads only add overhead and nondeterminism

HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
SHAPES = settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=HEALTH)
NUMERICS = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=HEALTH)
BATCH = 3
RTOL = 1e-4


# --------------------------------------------------------------------------- helpers


def build(analysis) -> "nn.Module":
    """Instantiate the generated PyTorch class (no-argument constructor, as DESIGN §3 promises)."""
    namespace: dict = {"__name__": "generated_network"}
    exec(compile(module_source(analysis), "<generated>", "exec"), namespace)
    model = namespace[class_name(analysis.network)]()
    assert isinstance(model.layers, nn.Sequential)
    assert len(model.layers) == len(analysis.network.layers)
    return model


def run_layers(model, x: np.ndarray) -> list[np.ndarray]:
    """Every layer's output (Input first). Cloned, because the ReLUs are in place."""
    t = torch.tensor(x)  # a copy: an in-place first layer must not write into `x`
    outs = [t.clone().numpy()]
    with torch.no_grad():
        for module in model.layers:
            t = module(t)
            outs.append(t.clone().numpy())
    return outs


def perturb(analysis, weights: list[dict], seed: int) -> list[dict]:
    """Non-trivial BatchNorm state (the PyTorch defaults would make eval-mode BN an identity)."""
    rng = np.random.default_rng(seed)
    for layer, state in zip(analysis.network.layers, weights):
        if isinstance(layer, BatchNorm2d):
            c = state["running_mean"].shape[0]
            state["running_mean"][:] = rng.normal(0, 0.5, c)
            state["running_var"][:] = rng.uniform(0.5, 2.0, c)
            if layer.affine:
                state["weight"][:] = rng.uniform(0.5, 1.5, c)
                state["bias"][:] = rng.normal(0, 0.5, c)
    return weights


def load(model, weights: list[dict]) -> None:
    """Copy explorer.forward's weights into the torch modules; the state must match name for name."""
    for i, (module, state) in enumerate(zip(model.layers, weights)):
        torch_state = {n: t for n, t in module.named_parameters(recurse=False)}
        torch_state.update({n: t for n, t in module.named_buffers(recurse=False) if n != "num_batches_tracked"})
        assert set(torch_state) == set(state), (i, set(torch_state), set(state))
        for key, value in state.items():
            assert tuple(torch_state[key].shape) == value.shape, (i, key)
            with torch.no_grad():
                torch_state[key].copy_(torch.from_numpy(value))


def assert_close(ours: np.ndarray, ref: np.ndarray, what: str) -> None:
    assert ours.shape == ref.shape, what
    scale = max(1.0, float(np.abs(ref).max(initial=0.0)))
    np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def torchinfo_macs(module, output: np.ndarray) -> int:
    """torchinfo 1.8's rule, from the module itself: every parameter once per sample, times H_out·W_out for
    convolutions."""
    n = sum(p.numel() for p in module.parameters())
    if isinstance(module, nn.Conv2d):
        return n * output.shape[2] * output.shape[3]
    return n


def without_dropout(data: dict) -> dict:
    """The same network with every Dropout at p=0 (torch and numpy draw different masks)."""
    return {**data, "layers": [{**layer, "p": 0.0} if layer["type"] == "dropout" else layer
                               for layer in data["layers"]]}


def saves_output_then_in_place(network) -> bool:
    """True when an in-place activation overwrites a tensor an earlier op saved for backward
    (Sigmoid/Tanh/ReLU outputs, possibly through Flatten or Dropout). See test_known_inplace_hazard."""
    saved = False
    for layer in network.layers:
        kind = layer.type
        in_place = kind == "relu" or (kind == "leaky_relu" and layer.negative_slope >= 0)
        if in_place and saved:
            return True
        if kind in ("sigmoid", "tanh") or in_place:
            saved = True
        elif kind not in ("flatten", "dropout"):
            saved = False
    return False


# --------------------------------------------------------------------------- structure: ≥ 200 examples


@SHAPES
@given(valid_architectures())
def test_generated_module_matches_the_analysis(data: dict) -> None:
    analysis = analyse(from_json(data))
    model = build(analysis).eval()
    x = np.random.default_rng(0).standard_normal((2, *analysis.network.input.shape)).astype(np.float32)
    outs = run_layers(model, x)
    for record, module, out in zip(analysis.records[1:], model.layers, outs[1:]):
        where = f"{record.name} {record.pytorch}"
        assert out.shape[1:] == record.output_shape, where
        params = list(module.parameters())
        assert sum(p.numel() for p in params) == record.params, where
        assert sum(p.numel() for p in params if p.requires_grad) == record.trainable_params, where
        buffers = sum(b.numel() for n, b in module.named_buffers() if n != "num_batches_tracked")
        assert buffers == record.buffers, where
        if isinstance(module, nn.BatchNorm2d):
            assert buffers == module.running_mean.numel() + module.running_var.numel() == 2 * module.num_features
        assert record.macs == torchinfo_macs(module, out), where
        assert record.activation_bytes == out[0].nbytes, where
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params
    assert sum(torchinfo_macs(m, o) for m, o in zip(model.layers, outs[1:])) == analysis.total_macs
    # state_dict keys are layers.{i}.<name>, in network order
    for key in model.state_dict():
        assert key.startswith("layers.") and int(key.split(".")[1]) < len(analysis.network.layers)


# --------------------------------------------------------------------------- numerics with shared weights


@NUMERICS
@given(valid_architectures(), st.integers(0, 2**16))
def test_eval_mode_outputs_match_torch(data: dict, seed: int) -> None:
    analysis = analyse(from_json(data))
    weights = perturb(analysis, init_weights(analysis, seed), seed)
    model = build(analysis)
    load(model, weights)
    model.eval()
    x = np.random.default_rng(seed + 1).standard_normal((BATCH, *analysis.network.input.shape)).astype(np.float32)
    ours = forward(analysis, weights, x, training=False)
    ref = run_layers(model, x)
    assert len(ours) == len(ref) == len(analysis.records)
    for record, a, b in zip(analysis.records, ours, ref):
        assert a.dtype == np.float32
        assert_close(a, b, f"{record.name} {record.pytorch}")


@NUMERICS
@given(valid_architectures(), st.integers(0, 2**16))
def test_train_mode_outputs_and_running_stats_match_torch(data: dict, seed: int) -> None:
    analysis = analyse(from_json(without_dropout(data)))
    weights = perturb(analysis, init_weights(analysis, seed), seed)
    model = build(analysis)
    load(model, weights)
    model.train()
    x = np.random.default_rng(seed + 1).standard_normal((BATCH, *analysis.network.input.shape)).astype(np.float32)
    ours = forward(analysis, weights, x, training=True)  # updates the BN running buffers in `weights`
    ref = run_layers(model, x)
    for record, a, b in zip(analysis.records, ours, ref):
        assert_close(a, b, f"train {record.name} {record.pytorch}")
    for layer, module, state in zip(analysis.network.layers, model.layers, weights):
        if isinstance(layer, BatchNorm2d):
            assert_close(state["running_mean"], module.running_mean.numpy(), "running_mean")
            assert_close(state["running_var"], module.running_var.numpy(), "running_var")
    # the generated module also trains: one backward pass reaches every parameter
    if any(True for _ in model.parameters()):
        out = model(torch.tensor(x))
        out.square().mean().backward()
        assert all(p.grad is not None for p in model.parameters())


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=HEALTH)
@given(valid_architectures(max_spatial=3, max_dense=2), st.integers(0, 2**16))
def test_dropout_in_train_mode_keeps_or_scales(data: dict, seed: int) -> None:
    """Masks differ between numpy and torch, so check the law instead: each value is 0 or x/(1−p)."""
    analysis = analyse(from_json(data))
    weights = init_weights(analysis, seed)
    x = np.random.default_rng(seed).standard_normal((BATCH, *analysis.network.input.shape)).astype(np.float32)
    outs = forward(analysis, weights, x, training=True, rng=np.random.default_rng(seed))
    for i, layer in enumerate(analysis.network.layers, start=1):
        if isinstance(layer, Dropout):
            before, after = outs[i - 1], outs[i]
            kept = after != 0
            np.testing.assert_allclose(after[kept], before[kept] / (1 - layer.p), rtol=1e-5, atol=1e-6)


def test_default_network_in_torch() -> None:
    analysis = analyse(default_network())
    model = build(analysis)
    assert sum(p.numel() for p in model.parameters()) == 620_810
    assert [type(m).__name__ for m in model.layers] == [
        "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d",
        "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Flatten", "Linear", "ReLU", "Linear"]
    assert "layers.0.weight" in model.state_dict() and "layers.13.bias" in model.state_dict()
    weights = perturb(analysis, init_weights(analysis, 7), 7)
    load(model, weights)
    model.eval()
    x = np.random.default_rng(3).standard_normal((2, 3, 32, 32)).astype(np.float32)
    ours, ref = forward(analysis, weights, x), run_layers(model, x)
    assert ref[-1].shape == (2, 10)
    for record, a, b in zip(analysis.records, ours, ref):
        assert_close(a, b, record.name)


def test_init_weights_look_like_pytorch_defaults() -> None:
    """Same shapes and the same U(−1/√fan_in, 1/√fan_in) bounds as torch's own initialisation."""
    analysis = analyse(default_network())
    weights = init_weights(analysis, 0)
    torch.manual_seed(0)
    model = build(analysis)
    for module, state in zip(model.layers, weights):
        for key, value in state.items():
            ref = getattr(module, key).detach().numpy()
            assert value.shape == ref.shape and value.dtype == np.float32
            if key in ("weight", "bias") and isinstance(module, (nn.Conv2d, nn.Linear)):
                bound = 1 / np.sqrt(np.prod(module.weight.shape[1:]))
                assert np.abs(value).max() <= bound and np.abs(ref).max() <= bound
                if key == "weight":
                    assert np.abs(value).max() > 0.9 * bound  # spread over the whole interval
            else:
                np.testing.assert_array_equal(value, ref)  # BN: ones, zeros, running 0 and 1
    for again, state in zip(init_weights(analysis, 0), weights):  # seeded: reproducible
        assert again.keys() == state.keys()
        for key in state:
            np.testing.assert_array_equal(again[key], state[key])
    assert not np.array_equal(init_weights(analysis, 1)[0]["weight"], weights[0]["weight"])


def test_negative_slope_leaky_relu_code_trains() -> None:
    """nn.LeakyReLU(negative_slope<0, inplace=True) cannot backpropagate; the generated code avoids it."""
    net = from_json({"input": {"channels": 1, "height": 4, "width": 4},
                     "layers": [{"type": "conv2d", "out_channels": 2, "kernel_size": 3},
                                {"type": "leaky_relu", "negative_slope": -0.2}, {"type": "flatten"},
                                {"type": "linear", "out_features": 2}]})
    model = build(analyse(net)).train()
    model(torch.randn(2, 1, 4, 4)).sum().backward()
    assert isinstance(model.layers[1], nn.LeakyReLU) and model.layers[1].negative_slope == -0.2


def test_activation_after_a_saved_output_is_not_in_place_and_trains() -> None:
    net = from_json({"input": {"channels": 1, "height": 2, "width": 2},
                     "layers": [{"type": "relu"}, {"type": "flatten"}, {"type": "linear", "out_features": 3},
                                {"type": "sigmoid"}, {"type": "relu"}, {"type": "dropout"}, {"type": "relu"},
                                {"type": "linear", "out_features": 1}, {"type": "relu"}]})
    analysis = analyse(net)
    assert saves_output_then_in_place(net)   # what the in-place form would have broken
    assert [r.pytorch for r in analysis.records if r.type == "relu"] == [
        "nn.ReLU()", "nn.ReLU()", "nn.ReLU()", "nn.ReLU(inplace=True)"]
    model = build(analysis).train()
    x = torch.randn(2, 1, 2, 2, requires_grad=True)
    model(x).sum().backward()

