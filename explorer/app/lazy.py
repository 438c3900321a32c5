"""Parts of the page whose Bokeh models are built the first time the reader opens them.

A collapsed `pn.Card` still builds, sends and renders every model inside it. The editor's
two folded sections (bring your own model, the JSON box) were about 40 % of the editor's
models and half its cost in the Pyodide page's start-up (docs/design.md §5); most visits
never open them. Their widgets still exist in Python from the start (the state and the
tests use them); only their place in the document waits for the first opening.
"""
from __future__ import annotations

from typing import Any, Callable

import panel as pn


def folded_card(title: str, body: Callable[[], list[Any]], **params: Any) -> pn.Card:
    """A collapsed Card that gets `body()` the first time it is expanded."""
    card = pn.Card(title=title, collapsed=True, **params)

    def fill(event: Any) -> None:
        if not event.new and not card.objects:
            card.objects = body()

    card.param.watch(fill, "collapsed")
    return card
