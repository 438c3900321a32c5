"""Predict-then-reveal: a quiz card per layer, checked in the browser (no Python needed)."""
from __future__ import annotations

from ..text import html as escape  # the one escaping rule (explorer/text.py)

from ..analysis import LayerRecord, format_shape
from .theme import icon


def quiz_html(r: LayerRecord) -> str:
    """Ask for the output shape and the parameter count; reveal the worked formulas after a try."""
    head = (f'<header>{icon(r.category)}<h2>{escape(r.name)}</h2><span class="kind">Quiz: predict, then check'
            f'</span></header>')
    if r.layer is None or r.input_shape is None:
        return (f'<section id="layer-details" class="cnnx-quiz" aria-label="Quiz">{head}<p>The input has '
                f'nothing to predict: it is {format_shape(r.output_shape)}. Pick another layer.</p></section>')
    shape_csv = ",".join(map(str, r.output_shape))
    return (
        f'<section id="layer-details" class="cnnx-quiz" aria-label="Quiz">{head}'
        f'<p>This layer receives <strong>{format_shape(r.input_shape)}</strong> and is '
        f'<code>{escape(r.pytorch)}</code>.</p>'
        f'<form data-cnnx-key="check" data-shape="{shape_csv}" data-params="{r.params}">'
        f'<p><label>Output shape (without the batch dimension) '
        f'<input name="shape" autocomplete="off" placeholder="e.g. 16, 8, 8"></label></p>'
        f'<p><label>Number of parameters <input name="params" autocomplete="off" inputmode="numeric" '
        f'placeholder="e.g. 1,234"></label></p>'
        f'<p><button type="button" class="cnnx-copy" data-cnnx-click="check">Check my answer</button></p>'
        f'<p class="cnnx-feedback" role="status" aria-live="polite"></p>'
        f'<div class="cnnx-reveal" hidden><p><strong>Output shape</strong> {escape(r.shape_text)}: '
        f'{escape(r.shape_formula)}</p><p><strong>Parameters</strong> {r.params:,}: {escape(r.param_formula)}</p>'
        f'</div></form></section>')


TOGGLE = ('<button type="button" class="cnnx-copy" aria-pressed="false" data-cnnx-click="quiz">'
          'Quiz mode</button> <span class="cnnx-hint">hides the answers on the card so students can '
          'predict the shape and parameters first</span>')
