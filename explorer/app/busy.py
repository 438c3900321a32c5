"""Busy messages: say "working…" before a computation that takes more than BUSY_SECONDS.

Python cannot repaint the page in the middle of a callback, so a long step is split: the
message is set now and the work runs on the next turn of the event loop, after the
message has reached the browser (Panel server: a next-tick callback; Pyodide: asyncio).
"""
from __future__ import annotations

import sys
from typing import Callable

import panel as pn

from ..text import html

BUSY_CSS = """
.cnnx-spinner { display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -1px;
  border: 2px solid #8c959f; border-top-color: transparent; border-radius: 50%;
  animation: cnnx-spin 0.8s linear infinite; }
@keyframes cnnx-spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .cnnx-spinner { animation: none; } }
"""


def busy_html(message: str, *, spinner: bool = True) -> str:
    """A status line (announced politely by screen readers), with a spinner while working."""
    icon = '<span class="cnnx-spinner" aria-hidden="true"></span>' if spinner else ""
    return f'<p class="cnnx-feature-note" role="status">{icon}{html(message)}</p>'


def run_soon(callback: Callable[[], None]) -> bool:
    """Run `callback` after the current changes reach the browser (so a busy message shows
    first); False when there is no event loop to wait for (then the caller runs it now)."""
    doc = pn.state.curdoc
    # Pyodide first: Panel gives the document there a mock session context too, and Bokeh's
    # timeout callbacks need its server machinery (not shipped in the site's bokeh wheel).
    if sys.platform == "emscripten":                              # Pyodide: let the worker post the patch
        import asyncio

        from panel.io.state import set_curdoc

        def run() -> None:
            if doc is None:
                callback()
                return
            with set_curdoc(doc):
                callback()
        asyncio.get_event_loop().call_later(0.02, run)
        return True
    if doc is not None and doc.session_context is not None:      # Panel server
        # Not a next-tick callback: Panel defers the message's model update itself, and the
        # websocket write needs further turns of the loop (measured: 50 ms was too little
        # on a loaded machine).
        doc.add_timeout_callback(callback, 200)
        return True
    return False
