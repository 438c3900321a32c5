"""Cross-check explorer.nn (pure numpy) against torch.nn.functional."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from explorer.nn import functional as nf  # noqa: E402
from explorer.nn import init as ni  # noqa: E402

pytestmark = pytest.mark.torch

RTOL, ATOL = 1e-4, 1e-5
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def rand(seed: int, *shape: int) -> np.ndarray:
    """Deterministic float32 standard-normal array."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


def close(ours: np.ndarray, ref: torch.Tensor, rtol: float = RTOL, atol: float = ATOL) -> None:
    ref_np = ref.detach().numpy()
    assert ours.shape == ref_np.shape
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref_np, rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("value", "expected"), [(3, (3, 3)), ((2, 5), (2, 5)), ([1, 4], (1, 4)), (np.int64(2), (2, 2))]
)
def test_pair(value, expected) -> None:
    assert nf.pair(value) == expected


def test_pair_rejects_wrong_length() -> None:
    with pytest.raises(ValueError):
        nf.pair((1, 2, 3))


@given(
    size=st.integers(1, 40),
    kernel=st.integers(1, 7),
    stride=st.integers(1, 4),
    padding=st.integers(0, 3),
    dilation=st.integers(1, 3),
)
@settings(max_examples=60, deadline=None)
def test_conv_output_size_matches_torch(size, kernel, stride, padding, dilation) -> None:
    expected = nf.conv_output_size(size, kernel, stride, padding, dilation)
    if expected <= 0:
        return
    out = F.conv2d(torch.zeros(1, 1, size, size), torch.zeros(1, 1, kernel, kernel),
                   stride=stride, padding=padding, dilation=dilation)
    assert out.shape[-1] == expected


def test_pool_output_size_default_stride() -> None:
    assert nf.pool_output_size(7, 2) == 3
    assert nf.pool_output_size(224, 3, 2, 1) == 112


# --------------------------------------------------------------------------- conv2d


@st.composite
def conv_cases(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    c_in = groups * draw(st.integers(1, 3))
    c_out = groups * draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    # Input just large enough for at least one output pixel.
    min_h = max(1, dilation[0] * (kh - 1) + 1 - 2 * padding[0])
    min_w = max(1, dilation[1] * (kw - 1) + 1 - 2 * padding[1])
    h = draw(st.integers(min_h, min_h + 7))
    w = draw(st.integers(min_w, min_w + 7))
    n = draw(st.integers(1, 3))
    bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    return n, c_in, c_out, (kh, kw), h, w, stride, padding, dilation, groups, bias, seed


@given(conv_cases())
@settings(max_examples=120, deadline=None)
def test_conv2d_matches_torch(case) -> None:
    n, c_in, c_out, (kh, kw), h, w, stride, padding, dilation, groups, use_bias, seed = case
    x = rand(seed, n, c_in, h, w)
    weight = rand(seed + 1, c_out, c_in // groups, kh, kw)
    bias = rand(seed + 2, c_out) if use_bias else None
    ours = nf.conv2d(x, weight, bias, stride=stride, padding=padding,
                     dilation=dilation, groups=groups)
    ref = F.conv2d(t(x), t(weight), None if bias is None else t(bias), stride=stride,
                   padding=padding, dilation=dilation, groups=groups)
    close(ours, ref)


def test_conv2d_int_args_and_depthwise() -> None:
    x, w, b = rand(0, 2, 6, 9, 9), rand(1, 6, 1, 3, 3), rand(2, 6)
    close(nf.conv2d(x, w, b, stride=2, padding=1, groups=6),
          F.conv2d(t(x), t(w), t(b), stride=2, padding=1, groups=6))


def test_conv2d_realistic_layer() -> None:
    x, w, b = rand(3, 4, 16, 20, 20), rand(4, 32, 16, 3, 3), rand(5, 32)
    close(nf.conv2d(x, w, b, padding=1), F.conv2d(t(x), t(w), t(b), padding=1), atol=1e-4)


def test_conv2d_output_is_contiguous_float32() -> None:
    out = nf.conv2d(rand(0, 1, 2, 5, 5), rand(1, 4, 2, 3, 3))
    assert out.flags.c_contiguous and out.dtype == np.float32


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kwargs"),
    [
        ((1, 3, 5, 5), (4, 2, 3, 3), {}),  # channel mismatch
        ((1, 4, 5, 5), (3, 2, 3, 3), {"groups": 2}),  # c_out not divisible by groups
        ((1, 3, 2, 2), (4, 3, 3, 3), {}),  # kernel larger than input
        ((3, 5, 5), (4, 3, 3, 3), {}),  # not NCHW
    ],
)
def test_conv2d_rejects_bad_shapes(x_shape, w_shape, kwargs) -> None:
    with pytest.raises(ValueError):
        nf.conv2d(np.zeros(x_shape, np.float32), np.zeros(w_shape, np.float32), **kwargs)


# --------------------------------------------------------------------------- linear / flatten


@given(
    n=st.integers(1, 5), f_in=st.integers(1, 20), f_out=st.integers(1, 20),
    use_bias=st.booleans(), seed=st.integers(0, 1000),
)
@FAST
def test_linear_matches_torch(n, f_in, f_out, use_bias, seed) -> None:
    x, w = rand(seed, n, f_in), rand(seed + 1, f_out, f_in)
    b = rand(seed + 2, f_out) if use_bias else None
    close(nf.linear(x, w, b), F.linear(t(x), t(w), None if b is None else t(b)))


def test_flatten_matches_torch() -> None:
    x = rand(0, 2, 3, 4, 5)
    out = nf.flatten(x)
    assert out.shape == (2, 60)
    np.testing.assert_array_equal(out, torch.flatten(t(x), 1).numpy())


# --------------------------------------------------------------------------- batch norm


def bn_inputs(seed: int, n: int, c: int, h: int, w: int):
    x = rand(seed, n, c, h, w) * 3 + 1
    gen = np.random.default_rng(seed + 1)
    rm = gen.standard_normal(c).astype(np.float32)
    rv = gen.uniform(0.5, 2.0, c).astype(np.float32)
    weight = gen.standard_normal(c).astype(np.float32)
    bias = gen.standard_normal(c).astype(np.float32)
    return x, rm, rv, weight, bias


@given(
    n=st.integers(1, 4), c=st.integers(1, 5), h=st.integers(1, 5), w=st.integers(1, 5),
    affine=st.booleans(), seed=st.integers(0, 1000),
)
@FAST
def test_batch_norm_eval_matches_torch(n, c, h, w, affine, seed) -> None:
    x, rm, rv, weight, bias = bn_inputs(seed, n, c, h, w)
    if not affine:
        weight = bias = None
    ours = nf.batch_norm(x, rm.copy(), rv.copy(), weight, bias, training=False)
    ref = F.batch_norm(t(x), t(rm), t(rv), None if weight is None else t(weight),
                       None if bias is None else t(bias), training=False)
    close(ours, ref)


@given(
    n=st.integers(1, 4), c=st.integers(1, 5), h=st.integers(1, 5), w=st.integers(1, 5),
    momentum=st.sampled_from([0.1, 0.5, 1.0, 0.0]), seed=st.integers(0, 1000),
)
@FAST
def test_batch_norm_train_matches_torch_and_updates_running_stats(
    n, c, h, w, momentum, seed
) -> None:
    if n * h * w == 1:
        return  # torch refuses a single value per channel; tested separately
    x, rm, rv, weight, bias = bn_inputs(seed, n, c, h, w)
    rm_np, rv_np = rm.copy(), rv.copy()
    rm_t, rv_t = t(rm.copy()), t(rv.copy())
    ours = nf.batch_norm(x, rm_np, rv_np, weight, bias, training=True, momentum=momentum)
    ref = F.batch_norm(t(x), rm_t, rv_t, t(weight), t(bias), training=True, momentum=momentum)
    close(ours, ref, atol=1e-4)
    np.testing.assert_allclose(rm_np, rm_t.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(rv_np, rv_t.numpy(), rtol=RTOL, atol=ATOL)
    assert rm_np.dtype == np.float32 and rv_np.dtype == np.float32


def test_batch_norm_train_repeated_steps_track_torch_module() -> None:
    bn = torch.nn.BatchNorm2d(3, momentum=0.2).train()
    state = ni.batchnorm_params(3)
    for step in range(5):
        x = rand(step, 4, 3, 6, 6) * (step + 1)
        ref = bn(t(x))
        ours = nf.batch_norm(x, state["running_mean"], state["running_var"], state["weight"],
                             state["bias"], training=True, momentum=0.2)
        close(ours, ref, atol=1e-4)
    np.testing.assert_allclose(state["running_mean"], bn.running_mean.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(state["running_var"], bn.running_var.numpy(), rtol=RTOL, atol=ATOL)


def test_batch_norm_train_single_value_per_channel_raises() -> None:
    with pytest.raises(ValueError):
        nf.batch_norm(rand(0, 1, 3, 1, 1), np.zeros(3, np.float32), np.ones(3, np.float32),
                      training=True)


def test_batch_norm_eval_does_not_touch_running_stats() -> None:
    rm, rv = np.zeros(2, np.float32), np.ones(2, np.float32)
    nf.batch_norm(rand(0, 3, 2, 4, 4), rm, rv, training=False)
    np.testing.assert_array_equal(rm, 0)
    np.testing.assert_array_equal(rv, 1)


# --------------------------------------------------------------------------- activations

activation_inputs = st.tuples(st.integers(1, 4), st.integers(1, 12), st.integers(0, 1000))


@given(activation_inputs, st.floats(0.0, 0.5))
@FAST
def test_activations_match_torch(case, slope) -> None:
    n, f, seed = case
    x = rand(seed, n, f) * 10
    x[0, 0] = 0.0
    close(nf.relu(x), F.relu(t(x)))
    close(nf.leaky_relu(x, slope), F.leaky_relu(t(x), slope))
    close(nf.sigmoid(x), torch.sigmoid(t(x)))
    close(nf.tanh(x), torch.tanh(t(x)))


def test_leaky_relu_default_slope() -> None:
    x = np.array([-2.0, 0.0, 3.0], np.float32)
    close(nf.leaky_relu(x), F.leaky_relu(t(x)))


def test_sigmoid_is_stable_at_extremes() -> None:
    x = np.array([-1e4, -100.0, 0.0, 100.0, 1e4], np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        out = nf.sigmoid(x)
    close(out, torch.sigmoid(t(x)))
    assert np.all(np.isfinite(out))


@given(activation_inputs, st.sampled_from([-1, 0, 1]), st.floats(1, 1000))
@FAST
def test_softmax_matches_torch(case, axis, scale) -> None:
    n, f, seed = case
    x = rand(seed, n, f) * np.float32(scale)
    ours = nf.softmax(x, axis=axis)
    close(ours, F.softmax(t(x), dim=axis))
    np.testing.assert_allclose(ours.sum(axis=axis), 1.0, rtol=1e-5)


def test_softmax_no_overflow() -> None:
    x = np.array([[1000.0, 1001.0, 1002.0], [-1e4, 0.0, 1e4]], np.float32)
    with np.errstate(over="raise"):
        close(nf.softmax(x), F.softmax(t(x), dim=-1))


# --------------------------------------------------------------------------- pooling


@st.composite
def pool_cases(draw, with_dilation: bool):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    padding = (draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if with_dilation else (1, 1)
    min_h = max(1, dilation[0] * (kh - 1) + 1 - 2 * padding[0])
    min_w = max(1, dilation[1] * (kw - 1) + 1 - 2 * padding[1])
    h = draw(st.integers(min_h, min_h + 8))
    w = draw(st.integers(min_w, min_w + 8))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)
    return shape, (kh, kw), stride, padding, dilation, draw(st.integers(0, 1000))


@given(pool_cases(with_dilation=True))
@settings(max_examples=80, deadline=None)
def test_max_pool2d_matches_torch(case) -> None:
    shape, kernel, stride, padding, dilation, seed = case
    x = rand(seed, *shape)
    ours = nf.max_pool2d(x, kernel, stride, padding, dilation)
    ref = F.max_pool2d(t(x), kernel, stride, padding, dilation)
    close(ours, ref)


@given(pool_cases(with_dilation=False), st.booleans())
@settings(max_examples=80, deadline=None)
def test_avg_pool2d_matches_torch(case, include_pad) -> None:
    shape, kernel, stride, padding, _, seed = case
    x = rand(seed, *shape)
    ours = nf.avg_pool2d(x, kernel, stride, padding, count_include_pad=include_pad)
    ref = F.avg_pool2d(t(x), kernel, stride, padding, count_include_pad=include_pad)
    close(ours, ref)


def test_pool_int_arguments() -> None:
    x = rand(0, 2, 3, 11, 11)
    close(nf.max_pool2d(x, 3, 2, 1), F.max_pool2d(t(x), 3, 2, 1))
    close(nf.avg_pool2d(x, 2), F.avg_pool2d(t(x), 2))


def test_max_pool_padding_never_wins_on_negative_input() -> None:
    x = -np.abs(rand(0, 1, 1, 4, 4)) - 1
    out = nf.max_pool2d(x, 3, 1, 1)
    assert np.all(out < 0)
    close(out, F.max_pool2d(t(x), 3, 1, 1))


@pytest.mark.parametrize("pool", [nf.max_pool2d, nf.avg_pool2d])
def test_pool_rejects_padding_over_half_kernel(pool) -> None:
    with pytest.raises(ValueError):
        pool(rand(0, 1, 1, 8, 8), 3, 1, 2)


@given(
    h=st.integers(1, 14), w=st.integers(1, 14),
    oh=st.integers(1, 8), ow=st.integers(1, 8), seed=st.integers(0, 1000),
)
@settings(max_examples=80, deadline=None)
def test_adaptive_avg_pool2d_matches_torch(h, w, oh, ow, seed) -> None:
    x = rand(seed, 2, 3, h, w)
    close(nf.adaptive_avg_pool2d(x, (oh, ow)), F.adaptive_avg_pool2d(t(x), (oh, ow)))


@pytest.mark.parametrize(
    ("in_hw", "out"),
    [((7, 7), 1), ((14, 14), 7), ((10, 10), 3), ((5, 9), (2, 4)), ((3, 3), 5), ((6, 8), (None, 3))],
)
def test_adaptive_avg_pool2d_divisible_and_not(in_hw, out) -> None:
    x = rand(1, 2, 4, *in_hw)
    close(nf.adaptive_avg_pool2d(x, out), F.adaptive_avg_pool2d(t(x), out))


def test_adaptive_avg_pool2d_keeps_nan_in_its_bin() -> None:
    x = np.ones((1, 1, 4, 4), np.float32)
    x[0, 0, 0, 0] = np.nan
    ours = nf.adaptive_avg_pool2d(x, 2)
    ref = F.adaptive_avg_pool2d(t(x), 2).numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    assert np.isnan(ours).sum() == 1


# --------------------------------------------------------------------------- dropout


def test_dropout_eval_is_identity() -> None:
    x = rand(0, 3, 5)
    np.testing.assert_array_equal(nf.dropout(x, 0.5, training=False), x)
    np.testing.assert_array_equal(F.dropout(t(x), 0.5, training=False).numpy(), x)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_train_statistics(p: float) -> None:
    x = np.ones((200, 500), np.float32)
    out = nf.dropout(x, p, training=True, rng=np.random.default_rng(0))
    ref = F.dropout(t(x), p, training=True).numpy()
    # Survivors are scaled exactly like torch; drop fraction and mean match in expectation.
    np.testing.assert_allclose(np.unique(out[out != 0]), np.unique(ref[ref != 0]), rtol=1e-6)
    assert abs((out == 0).mean() - p) < 0.01
    assert abs(out.mean() - 1.0) < 0.03


def test_dropout_edge_probabilities_and_determinism() -> None:
    x = rand(0, 4, 6)
    np.testing.assert_array_equal(nf.dropout(x, 0.0, training=True), x)
    np.testing.assert_array_equal(nf.dropout(x, 1.0, training=True), np.zeros_like(x))
    a = nf.dropout(x, 0.3, training=True, rng=np.random.default_rng(7))
    b = nf.dropout(x, 0.3, training=True, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        nf.dropout(x, 1.5, training=True)


# --------------------------------------------------------------------------- init


@pytest.mark.parametrize(
    ("c_in", "c_out", "k", "groups", "bias"),
    [(3, 16, 3, 1, True), (8, 8, (1, 5), 8, False), (6, 12, (3, 2), 3, True)],
)
def test_conv2d_params_shapes_and_bounds(c_in, c_out, k, groups, bias) -> None:
    w, b = ni.conv2d_params(np.random.default_rng(0), c_in, c_out, k, groups=groups, bias=bias)
    ref = torch.nn.Conv2d(c_in, c_out, k, groups=groups, bias=bias)
    assert w.shape == tuple(ref.weight.shape) and w.dtype == np.float32
    kh, kw = nf.pair(k)
    bound = 1 / np.sqrt(c_in // groups * kh * kw)
    assert np.abs(w).max() <= bound
    # Same bound as torch's own default init (max |w| of torch close to the bound).
    assert float(ref.weight.detach().abs().max()) <= bound + 1e-7
    if bias:
        assert b is not None and b.shape == (c_out,) and b.dtype == np.float32
        assert np.abs(b).max() <= bound
    else:
        assert b is None


def test_linear_params_shapes_and_bounds() -> None:
    w, b = ni.linear_params(np.random.default_rng(0), 400, 120)
    ref = torch.nn.Linear(400, 120)
    assert w.shape == tuple(ref.weight.shape) and b.shape == tuple(ref.bias.shape)
    bound = 1 / np.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # Uniform over the full range: spread should be close to the bound.
    assert np.abs(w).max() > 0.95 * bound
    np.testing.assert_allclose(w.std(), bound / np.sqrt(3), rtol=0.05)
    assert ni.linear_params(np.random.default_rng(0), 4, 2, bias=False)[1] is None


def test_init_is_deterministic_per_seed() -> None:
    a = ni.conv2d_params(np.random.default_rng(42), 3, 8, 3)
    b = ni.conv2d_params(np.random.default_rng(42), 3, 8, 3)
    c = ni.conv2d_params(np.random.default_rng(43), 3, 8, 3)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_init_rejects_bad_groups() -> None:
    with pytest.raises(ValueError):
        ni.conv2d_params(np.random.default_rng(0), 3, 8, 3, groups=2)


def test_batchnorm_params_match_torch_defaults() -> None:
    state = ni.batchnorm_params(5)
    ref = torch.nn.BatchNorm2d(5)
    for name in ("weight", "bias", "running_mean", "running_var"):
        np.testing.assert_array_equal(state[name], getattr(ref, name).detach().numpy())
        assert state[name].dtype == np.float32


def test_init_params_drive_a_forward_pass_like_torch() -> None:
    rng = np.random.default_rng(0)
    w, b = ni.conv2d_params(rng, 3, 4, 3)
    conv = torch.nn.Conv2d(3, 4, 3)
    with torch.no_grad():
        conv.weight.copy_(t(w))
        conv.bias.copy_(t(b))
        x = rand(1, 2, 3, 8, 8)
        close(nf.conv2d(x, w, b), conv(t(x)))
