"""Plain-language explanations of each layer, written for its actual numbers."""
from __future__ import annotations

import math
from dataclasses import dataclass

from .analysis import LayerRecord, format_shape
from .spec import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, Dropout, LeakyReLU, Linear,
                   MaxPool2d, Sigmoid, Tanh)


@dataclass(frozen=True)
class Explanation:
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
    return Explanation(r.type, "", "", "")


def _count(shape: tuple[int, ...]) -> str:
    return f"{math.prod(shape):,}"


def announcement(r: LayerRecord) -> str:
    """One sentence for the aria-live region: "Conv2: output 64×16×16, 18,496 parameters"."""
    shape = "×".join(map(str, r.output_shape))
    return f"{r.name}: output {shape}, {r.params:,} parameters"
