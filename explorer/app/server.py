"""`python -m explorer serve`: the live app on a local Panel server (127.0.0.1 only)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import jinja2
import panel as pn
from bokeh.server.urls import per_app_patterns
from panel.io.resources import BASE_TEMPLATE, LOCAL_DIST
from panel.io.server import DocHandler, WSHandler

from .page import TITLE, Explorer
from .prebuilt import ActivityWSHandler, PrebuiltDocHandler, warm_up

# Panel's page template plus a viewport meta and, after the BokehJS bundles, the script that
# attaches the inline document to its server session (prebuilt.py).
_PAGE_TEMPLATE = jinja2.Environment().from_string(
    '{% extends base %}{% block preamble %}{{ super() }}'
    '<meta name="viewport" content="width=device-width, initial-scale=1">{% endblock %}'
    '{% block postamble %}{{ super() }}{{ cnnx_attach | default("", true) }}{% endblock %}')


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
        # No tier here: the page is rendered before its websocket opens, and attach.js writes
        # data-tier="live" once the document is attached to this session.
        doc.js_on_event("document_ready", explorer.views.ready())
        # Panel's page template has no viewport meta: phones would lay the page out 980 px wide.
        doc.template = _PAGE_TEMPLATE
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


@contextmanager
def _page_handler() -> Iterator[None]:
    """Bokeh's per-app routes with the app page answered by PrebuiltDocHandler and websocket
    messages noted by ActivityWSHandler, while a server is being built (Bokeh reads the list
    when it builds one)."""
    saved = per_app_patterns[:]
    swap = {DocHandler: PrebuiltDocHandler, WSHandler: ActivityWSHandler}
    per_app_patterns[:] = [(route, swap.get(handler, handler)) for route, handler in saved]
    try:
        yield
    finally:
        per_app_patterns[:] = saved


def serve(port: int = 5006, show: bool = False) -> None:
    pn.extension()
    # The first HTML is the same for every visitor (the URL fragment, the only per-visit input,
    # never reaches the server and is applied after load), so each page is a session built
    # before it was asked for, sent inline with the page (prebuilt.py, docs/design.md §5).
    with _page_handler():
        server = pn.serve({"explorer": session}, port=port, address="127.0.0.1", show=show, title=TITLE,
                          websocket_origin=[f"127.0.0.1:{port}", f"localhost:{port}"], start=False,
                          verbose=False)
    server.start()
    warm_up(server, f"127.0.0.1:{port}")
    print(f"Serving the CNN Architecture Explorer at http://127.0.0.1:{server.port}/explorer", flush=True)
    server.io_loop.start()
