"""Rows of controls that wrap onto more lines on a narrow screen."""
from __future__ import annotations

from typing import Any

import panel as pn

WRAP = {"flex-direction": "row", "flex-wrap": "wrap", "align-items": "flex-end", "column-gap": "4px"}


def wrap_row(*objects: Any, **params: Any) -> pn.Column:
    """A plain Bokeh column laid out as a wrapping CSS flex row, bottom-aligned (labels above
    inputs). A column, because Bokeh sizes a Row at least as wide as all its children side by
    side, which overflows a phone screen; a column needs only its widest child.

    pn.FlexBox does the same, but it is a ReactiveHTML component: each one costs a template
    model plus an HTML sanitiser (the nh3 wheel, 0.4 MB) in the browser, and the editor builds
    new rows on every selection.
    """
    styles = {**WRAP, **params.pop("styles", {})}
    return pn.Column(*objects, styles=styles, sizing_mode=params.pop("sizing_mode", "stretch_width"), **params)
