"""`python -m explorer serve`: the live app on a local Panel server (127.0.0.1 only)."""
from __future__ import annotations

import panel as pn

from .page import TITLE, Explorer


def session() -> pn.viewable.Viewable:
    """One page per browser session; reads the URL fragment (layer, arch, hide) at start."""
    explorer = Explorer(live=True)
    if pn.state.curdoc is not None:
        pn.state.curdoc.js_on_event("document_ready", explorer.views.ready("live"))
    # The fragment never reaches the server with the request; it is synced once the page loads.
    pn.state.onload(lambda: explorer.load_fragment(pn.state.location.hash or ""))
    return explorer.layout


def serve(port: int = 5006, show: bool = False) -> None:
    pn.extension()
    pn.serve({"explorer": session}, port=port, address="127.0.0.1", show=show, title=TITLE,
             websocket_origin=[f"127.0.0.1:{port}", f"localhost:{port}"], print_url=True)
