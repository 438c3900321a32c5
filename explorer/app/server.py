"""`python -m explorer serve`: the live app on a local Panel server (127.0.0.1 only)."""
from __future__ import annotations

from typing import Any

import jinja2
import panel as pn
from panel.io.resources import BASE_TEMPLATE, LOCAL_DIST

from .page import TITLE, Explorer


_VIEWPORT_TEMPLATE = jinja2.Environment().from_string(
    '{% extends base %}{% block preamble %}{{ super() }}'
    '<meta name="viewport" content="width=device-width, initial-scale=1">{% endblock %}')


def session() -> pn.viewable.Viewable:
    """One page per browser session; reads the URL fragment (layer, arch, hide) at start."""
    doc = pn.state.curdoc
    if doc is not None:
        # Panel points component stylesheets at its CDN unless the document says where its local
        # copy is; it says so only when it serves the HTML page. A session Bokeh makes afresh for a
        # returning websocket (the first one expired, e.g. on a slow client) never gets that page,
        # so say it here, before any model is rendered: the page must stay offline.
        doc.template_variables.setdefault("dist_url", f"{pn.state.rel_path}/{LOCAL_DIST}" if pn.state.rel_path
                                          else LOCAL_DIST)
    explorer = Explorer(live=True)
    if doc is not None:
        doc.js_on_event("document_ready", explorer.views.ready("live"))
        # Panel's page template has no viewport meta: phones would lay the page out 980 px wide.
        doc.template = _VIEWPORT_TEMPLATE
        doc.template_variables["base"] = BASE_TEMPLATE
    # The fragment never reaches the server with the request; the browser syncs it after the
    # page loads, sometimes only after `onload` has run, so also apply its first arrival.
    location, loaded = pn.state.location, []

    def on_load() -> None:
        loaded.append(True)
        explorer.load_fragment(location.hash or "" if location is not None else "")

    def on_hash(event: Any) -> None:
        if loaded and not event.old:
            explorer.load_fragment(event.new or "")

    pn.state.onload(on_load)
    if location is not None:
        location.param.watch(on_hash, "hash")
    return explorer.layout


def serve(port: int = 5006, show: bool = False) -> None:
    pn.extension()
    # No pn.config.reuse_sessions: it renders a cached copy of the document first and replaces it
    # when the visitor's own session arrives, so a click in between is lost (the e2e tests that
    # press "Show feature maps" right after the page is ready failed now and then), for a first
    # click only 0.4 s sooner (2.97 -> 2.58 s, bench/ui.py).
    pn.serve({"explorer": session}, port=port, address="127.0.0.1", show=show, title=TITLE,
             websocket_origin=[f"127.0.0.1:{port}", f"localhost:{port}"], print_url=True)
