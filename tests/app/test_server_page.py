"""The desktop server's page (explorer/app/prebuilt.py): the session's document inline, the
token to attach to it, and only the BokehJS bundles the document uses (docs/design.md §5)."""
from __future__ import annotations

import json
import re

from bokeh.document import Document
from bokeh.resources import Resources as BkResources
from bokeh.server.session import ServerSession
from panel.io.resources import Resources
from panel.io.state import set_curdoc

from explorer.app.prebuilt import page_with_document, unused_bundles
from explorer.app.server import session as build_session

BUNDLES = ["static/js/bokeh.min.js?v=1", "static/js/bokeh-gl.min.js?v=2", "static/js/bokeh-widgets.min.js?v=3",
           "static/extensions/panel/bundled/reactiveesm/es-module-shims@^1.10.0/dist/es-module-shims.min.js"]


def test_webgl_and_esm_bundles_are_dropped_only_when_unused() -> None:
    assert unused_bundles('{"roots":[]}', BUNDLES) == {BUNDLES[1], BUNDLES[3]}
    assert unused_bundles('{"output_backend":"webgl"}', BUNDLES) == {BUNDLES[3]}
    assert unused_bundles('{"esm":"export default {}"}', BUNDLES) == {BUNDLES[1]}


def _page() -> tuple[str, Document]:
    doc = Document()
    with set_curdoc(doc):
        build_session().server_doc(doc)
        session = ServerSession("sid", doc)
        html = page_with_document(session, Resources.from_bokeh(BkResources(mode="server")), "TOKEN-1", "/explorer")
    return html, doc


def test_the_page_carries_the_document_and_the_token_of_its_session() -> None:
    html, doc = _page()
    assert '<html lang="en" data-tier="static">' in html
    config = json.loads(re.search(r'<script type="application/json" id="cnnx-session">(.*?)</script>', html).group(1))
    assert config == {"token": "TOKEN-1", "app_path": "/explorer"}
    # the document itself, with the session's own model ids, so the websocket needs no pull
    layers = doc.select_one({"name": "cnnx-layers"})
    assert layers is not None and f'"id":"{layers.id}"' in html
    assert "Conv2" in html
    # attach.js runs in the head, after the bundles and before BokehJS embeds the document
    assert html.index("bokeh.min.js") < html.index('Bokeh.require("client/connection")') < html.index("embed_items")
    assert "bokeh-gl" not in html and "es-module-shims.min.js" not in html
    assert "bokeh-widgets" in html and "panel.min.js" in html


def test_the_server_routes_pages_and_websockets_through_the_prebuilt_handlers_only_while_built() -> None:
    from bokeh.server.urls import per_app_patterns
    from panel.io.server import DocHandler, WSHandler

    from explorer.app.prebuilt import ActivityWSHandler, PrebuiltDocHandler
    from explorer.app.server import _page_handler

    before = per_app_patterns[:]
    with _page_handler():
        handlers = {handler for _route, handler in per_app_patterns}
        assert {PrebuiltDocHandler, ActivityWSHandler} <= handlers
        assert DocHandler not in handlers and WSHandler not in handlers
    assert per_app_patterns == before
