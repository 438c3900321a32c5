"""Plain-language explanations of each layer, written for its actual numbers."""
from __future__ import annotations

import math
from dataclasses import dataclass

from .analysis import LayerRecord, format_shape
from .spec import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, Dropout, LeakyReLU, Linear,
                   MaxPool2d, Sigmoid, Tanh)


@dataclass(frozen=True)
class Explanation:
    """The teaching text of one layer's card."""
    title: str       # "Convolution", "Batch normalisation", …
    what: str        # what the layer computes, with its numbers
    why: str         # why it sits here in a CNN
    knobs: str       # what changing its hyperparameters would do


def _px(size: tuple[int, int]) -> str:
    return f"{size[0]}×{size[1]}"


def explain(r: LayerRecord) -> Explanation:
    """Prose for one analysed layer."""
    layer, out = r.layer, r.output_shape
    if layer is None:
        c, h, w = out
        colour = "a colour image with 3 channels (red, green, blue)" if c == 3 else (
            "a greyscale image with 1 channel" if c == 1 else f"a {c}-channel input")
        return Explanation(
            "Input image", f"The network reads {colour} of {h}×{w} pixels: {c * h * w:,} numbers in all.",
            "Every later shape follows from this one; change the input and the whole network re-wires.",
            "A larger image costs more memory and compute in every convolution; the fully connected "
            "layers after Flatten grow too.")
    assert r.input_shape is not None
    cin = r.input_shape[0]
    if isinstance(layer, Conv2d):
        k = _px(layer.kernel_size)
        g = f" in {layer.groups} groups" if layer.groups > 1 else ""
        depth = cin // layer.groups
        return Explanation(
            "Convolution",
            f"{layer.out_channels} filters of {k}×{depth}{g} slide over the {cin}-channel input. Each filter "
            f"takes a weighted sum of a {k} patch across {depth} channel{'s' if depth > 1 else ''}"
            f"{' plus a bias' if layer.bias else ''}, producing one {out[1]}×{out[2]} feature map, "
            f"so the output is {format_shape(out)}.",
            "Convolutions detect local patterns (edges, textures, parts) with the same weights at every "
            "position, which needs far fewer parameters than a fully connected layer on pixels.",
            f"More filters (out_channels) give more feature maps and more parameters. A larger kernel sees "
            f"a wider patch. Stride {layer.stride[0]} moves the filter that many pixels at a time; padding "
            f"{layer.padding[0]} adds a border of zeros so the edges are covered"
            f"{' and the size is kept' if out[1:] == r.input_shape[1:] else ''}.")
    if isinstance(layer, BatchNorm2d):
        learn = (f"then scales and shifts it with {r.params:,} learned numbers (γ and β, one pair per channel)"
                 if layer.affine else "with no learned scale or shift (affine=False)")
        return Explanation(
            "Batch normalisation",
            f"Normalises each of the {cin} channels to mean 0 and variance 1, {learn}. It also keeps "
            f"{r.buffers:,} running statistics (mean and variance per channel) that are used at test time "
            "instead of batch statistics; those are buffers, not trainable parameters.",
            "Keeping activations in a steady range makes training faster and less sensitive to the "
            "learning rate and initialisation.",
            f"eps={layer.eps:g} guards against division by zero; momentum={layer.momentum:g} sets how fast "
            "the running statistics follow new batches.")
    if r.type == "relu":
        return Explanation(
            "ReLU activation", f"Replaces every negative value with 0 and keeps positives: max(0, x), applied "
            f"to all {_count(out)} values. The shape stays {format_shape(out)}.",
            "Without a non-linearity, stacked layers would collapse into one linear map; ReLU is cheap "
            "and keeps gradients alive for positive inputs.", "ReLU has no parameters or hyperparameters.")
    if isinstance(layer, LeakyReLU):
        return Explanation(
            "Leaky ReLU activation", f"Keeps positive values and multiplies negatives by "
            f"{layer.negative_slope:g}, for all {_count(out)} values; shape unchanged.",
            "Like ReLU, it adds non-linearity, but the small negative slope means units never go "
            "completely silent ('dying ReLU').", "negative_slope sets how much of a negative input leaks through.")
    if isinstance(layer, (Sigmoid, Tanh)):
        rng = "0 and 1" if isinstance(layer, Sigmoid) else "−1 and 1"
        return Explanation(
            f"{'Sigmoid' if isinstance(layer, Sigmoid) else 'Tanh'} activation",
            f"Squashes each of the {_count(out)} values into the range between {rng}; shape unchanged.",
            "A smooth non-linearity; common in older CNNs such as LeNet-5. Large inputs saturate, which "
            "slows learning in deep networks.", "It has no parameters or hyperparameters.")
    if isinstance(layer, (MaxPool2d, AvgPool2d)):
        how = "keeps the largest value" if isinstance(layer, MaxPool2d) else "takes the average"
        s = layer.stride or layer.kernel_size
        return Explanation(
            "Max pooling" if isinstance(layer, MaxPool2d) else "Average pooling",
            f"Looks at each {_px(layer.kernel_size)} window, moving {_px(s)} pixels at a time, and {how}, "
            f"separately for each of the {cin} channels: {r.input_shape[1]}×{r.input_shape[2]} becomes "
            f"{out[1]}×{out[2]}.",
            "Pooling shrinks the feature maps, so later layers cost less and each of their units sees a "
            "larger part of the image; it also adds a little tolerance to small shifts.",
            "A larger kernel or stride shrinks the maps faster. Pooling has no parameters.")
    if isinstance(layer, AdaptiveAvgPool2d):
        return Explanation(
            "Adaptive average pooling",
            f"Averages each of the {cin} channels down to exactly {_px(layer.output_size)}, whatever the "
            f"input size ({r.input_shape[1]}×{r.input_shape[2]} here).",
            "It lets the same network accept different image sizes; with output 1×1 it is global average "
            "pooling, which replaces big fully connected layers.", "output_size fixes the spatial output.")
    if isinstance(layer, Dropout):
        return Explanation(
            "Dropout", f"While training, zeroes each value with probability {layer.p:g} and scales the rest "
            f"by 1/(1−{layer.p:g}); at test time it passes everything through unchanged.",
            "Randomly silencing units keeps the network from relying on any one of them, which reduces "
            "overfitting.", "A larger p regularises more strongly. No parameters.")
    if r.type == "flatten":
        return Explanation(
            "Flatten", f"Unrolls the {format_shape(r.input_shape)} feature maps into one vector of "
            f"{out[0]:,} numbers. Nothing is computed; only the shape changes.",
            "Fully connected layers take a flat vector, so the spatial maps must be unrolled first.",
            "Flatten has no hyperparameters; its output length decides the next Linear's in_features.")
    if isinstance(layer, Linear):
        role = ("This is the last layer: its outputs are the logits, one score per class (softmax turns "
                "them into probabilities)." if r.name == "Logits" else
                "It combines features from the whole image.")
        return Explanation(
            "Fully connected (linear)",
            f"Each of the {layer.out_features:,} neurons takes a weighted sum of all {cin:,} inputs"
            f"{' plus a bias' if layer.bias else ''}. {role}",
            "Fully connected layers mix information globally and map features to the classes.",
            f"Every input connects to every output, so parameters grow as in·out: here {r.param_formula}.")
    if r.type in ("block", "parallel"):
        return _container(r)
    if r.type in _POINTWISE:
        title, what, why, knobs = _POINTWISE[r.type]
        return Explanation(title, f"{what} Applied to all {_count(out)} values; the shape stays {format_shape(out)}.",
                           why, knobs)
    if r.type == "adaptive_maxpool2d":
        return Explanation(
            "Adaptive max pooling",
            f"Keeps the largest value of each of the {cin} channels within each cell of a fixed "
            f"{out[1]}×{out[2]} grid, whatever the input size ({r.input_shape[1]}×{r.input_shape[2]} here).",
            "Like adaptive average pooling it makes the output size independent of the image size, but it "
            "reports whether a feature appeared anywhere in the cell rather than how much of it there is.",
            "output_size fixes the spatial output. No parameters.")
    if r.type == "stochastic_depth":
        p = getattr(layer, "p", 0.0)
        return Explanation(
            "Stochastic depth",
            f"While training, drops this residual branch for a whole sample (or batch) with probability {p:g} "
            f"and scales it by 1/(1−{p:g}) otherwise; at test time it passes everything through unchanged.",
            "Randomly skipping residual branches trains a very deep network like an ensemble of shallower ones "
            "(EfficientNet, ConvNeXt).", "A larger p drops branches more often. No parameters.")
    return Explanation(r.type, "", "", "")


# Element-wise layers with no numbers of their own: (title, what, why, knobs).
_POINTWISE = {
    "relu6": ("ReLU6 activation", "Keeps values between 0 and 6: min(max(0, x), 6).",
              "Capping activations at 6 keeps them in a range that low-precision arithmetic represents well; "
              "MobileNet uses it.", "ReLU6 has no parameters or hyperparameters."),
    "silu": ("SiLU (swish) activation", "Multiplies each value by its sigmoid: x·σ(x).",
             "A smooth ReLU-like curve that lets small negative values through; EfficientNet uses it.",
             "SiLU has no parameters or hyperparameters."),
    "hardswish": ("Hard swish activation", "Computes x·ReLU6(x + 3)/6, a piecewise-linear swish.",
                  "As accurate as swish but cheaper on phones; MobileNet V3 uses it.",
                  "It has no parameters or hyperparameters."),
    "hardsigmoid": ("Hard sigmoid", "Computes ReLU6(x + 3)/6, a piecewise-linear sigmoid between 0 and 1.",
                    "A cheap gate: in squeeze-and-excitation it scales each channel between 0 and 1.",
                    "It has no parameters or hyperparameters."),
    "gelu": ("GELU activation", "Weights each value by the probability that a standard normal variable is "
             "below it: x·Φ(x).", "A smooth activation used by transformers and ConvNeXt.",
             "approximate=\"tanh\" uses a faster formula with nearly the same values."),
    "identity": ("Identity", "Passes its input through unchanged.",
                 "A placeholder where a model has an optional layer switched off.", "It has no hyperparameters."),
}


def _container(r: LayerRecord) -> Explanation:
    """Prose for a block or a merge (a parallel's row)."""
    t = r.subtotal
    held = f"{t.params:,} parameters in {t.layers} layers" if t else "no layers"
    if r.type == "block":
        module = getattr(r.layer, "module", "Sequential")
        return Explanation(
            f"Block ({module})",
            f"A named group of layers that run one after another: {format_shape(r.input_shape or ())} in, "
            f"{format_shape(r.output_shape)} out, {held}.",
            "Grouping repeated patterns into blocks is how modern CNNs are built and read (ResNet's layer1, "
            "VGG's features).", "Open the block to see and change its layers.")
    merge = getattr(r.layer, "merge", "add")
    n = len(getattr(r.layer, "branches", ()))
    what = {"add": "adds the outputs of its branches element by element",
            "concat": "stacks the outputs of its branches along the channel axis",
            "multiply": "multiplies the outputs of its branches element by element (a gate)"}[merge]
    why = {"add": "A skip connection: the branch only has to learn a correction to its input, which lets very "
                  "deep networks train (ResNet).",
           "concat": "Branches look at the same input in different ways (Inception) or keep every earlier "
                     "feature map (DenseNet).",
           "multiply": "Squeeze-and-excitation: a small branch looks at the whole image and decides how much "
                       "of each channel to keep."}[merge]
    return Explanation(f"Merge ({merge})", f"Every one of its {n} branches receives the same input; this "
                       f"{what}, giving {format_shape(r.output_shape)}. The branches hold {held}; the merge "
                       "itself has none.", why, "An empty branch is the identity: the input itself.")


def _count(shape: tuple[int, ...]) -> str:
    return f"{math.prod(shape):,}"


def announcement(r: LayerRecord) -> str:
    """One sentence for the aria-live region: "Conv2: output 64×16×16, 18,496 parameters"."""
    shape = "×".join(map(str, r.output_shape))
    params = r.subtotal.params if r.subtotal is not None else r.params
    return f"{r.name}: output {shape}, {params:,} parameters"
