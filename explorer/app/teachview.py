"""'Compare designs' section: plain vs residual and 3×3 vs 1×1 bottleneck, for the network shown.

The numbers come from explorer/compare.py (pure); this view watches the page's state and
lets the student change the bottleneck width (docs/design.md §7).
"""
from __future__ import annotations

from typing import Any

import panel as pn

from ..compare import Comparison, bottleneck_3x3, existing_reducers, plain_vs_residual
from ..text import html
from .state import ExplorerState
from .theme import heading_html

REDUCTIONS = {"÷2": 2, "÷4 (ResNet's choice)": 4, "÷8": 8}


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "–"


def comparison_html(c: Comparison | None, empty: str) -> str:
    """One comparison as a small table (actual, alternative, difference) and its sentence."""
    if c is None:
        return f"<p class='cnnx-hint'>{html(empty)}</p>"
    rows = "".join(
        f"<tr><th scope='row'>{label}</th><td>{a:,}</td><td>{o:,}</td><td>{o - a:+,} ({_share(abs(o - a), max(a, o))})</td></tr>"
        for label, a, o in (("Parameters", c.actual.params, c.other.params), ("MACs", c.actual.macs, c.other.macs)))
    return (f"<h3 style='font-size:15px;margin:8px 0 2px'>{html(c.title)}</h3>"
            f"<table class='cnnx-compare'><thead><tr><th></th><th scope='col'>this network</th>"
            f"<th scope='col'>the alternative</th><th scope='col'>difference</th></tr></thead>"
            f"<tbody>{rows}</tbody></table><p>{html(c.detail)}</p>")


class TeachingView:
    """The comparison section of a live page."""

    def __init__(self, state: ExplorerState) -> None:
        self.state = state
        self.reduction = pn.widgets.RadioButtonGroup(options=list(REDUCTIONS),
                                                     value="÷4 (ResNet's choice)")
        self.body = pn.pane.HTML("", sizing_mode="stretch_width", name="cnnx-compare")
        self.layout = pn.Column(
            pn.pane.HTML(heading_html("Compare designs", "What the shortcuts and the 1×1 bottlenecks of this "
                                      "network cost or save, computed for its actual sizes. Edit the network and "
                                      "the numbers follow."), sizing_mode="stretch_width"),
            pn.Row(pn.pane.HTML("<span>Bottleneck width:</span>"), self.reduction), self.body,
            sizing_mode="stretch_width", name="cnnx-part-compare", css_classes=["cnnx-part-compare"])
        self.reduction.param.watch(lambda _e: self.refresh(), "value")
        state.param.watch(lambda _e: self.refresh(), "network")
        self.refresh()

    def refresh(self, *_: Any) -> None:
        """Recompute for the network shown; a failure is said in the section, never raised."""
        analysis = self.state.network
        try:
            residual = plain_vs_residual(analysis)
            neck = bottleneck_3x3(analysis, REDUCTIONS[self.reduction.value])
            reducers = existing_reducers(analysis)
        except Exception as exc:   # noqa: BLE001 - a comparison must never stop the page
            self.body.object = f"<p>The comparison could not be computed ({html(exc.__class__.__name__)}).</p>"
            return
        self.body.object = (
            comparison_html(residual, "This network has no residual shortcuts; load a ResNet preset or insert a "
                                      "residual block to compare it with a plain stack.")
            + comparison_html(neck, "This network has no 3×3 (or larger) convolutions to compare with bottlenecks.")
            + comparison_html(reducers, "No 1×1 reducer sits in front of a larger convolution here (the "
                                        "Inception-style and ResNet bottleneck designs have them)."))
