"""Desktop server start-up: a session built before the visitor asks, sent inline with the page.

Panel's server answers a page request with an empty shell; the browser loads BokehJS, opens
a websocket and only then pulls the document of a session that the request had to build
(0.5–1 s of Python), so the first click waits for all of it in series. Here, instead:
- `SparePool` keeps two sessions of the app built and idle (expiry blocked), each with its page
  already rendered but for the visitor's token, from server start on; it tops up only once the
  previous visitor's page is connected and the server has had 2 s without HTTP requests or
  websocket messages, so that building (which holds the server's only thread for 0.5–1 s,
  several seconds on a loaded machine) seldom competes with a visitor's scripts, changes or
  clicks; it is never forced (a page request then builds its own session, as Panel's does).
- `PrebuiltDocHandler` answers the page request with that session's document serialised into
  the HTML (as a static export is) plus a token for the same session: BokehJS renders it, and
  layers are clickable, before any websocket exists. `assets/attach.js` then connects the
  rendered document to its session (no second pull, no re-render), replaying what changed
  on the page meanwhile, one message at a time; the controls that need Python stay inert
  until then (docs/design.md §5).
- The page loads only the BokehJS bundles the document uses (no WebGL bundle without WebGL
  glyphs, no es-module-shims without ESM components).
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bokeh.core.json_encoder import serialize_json
from bokeh.embed.util import RenderItem
from bokeh.server.session import ServerSession, current_time
from bokeh.util.serialization import make_id
from bokeh.util.token import generate_jwt_token, generate_session_id
from panel.io.state import set_curdoc, state
from panel.io.resources import LOCAL_DIST, Resources, bundle_resources, patch_model_css
from panel.io.server import DocHandler, WSHandler, _set_request_route_context, html_page_for_render_items
from tornado.httputil import HTTPHeaders, HTTPServerRequest


log = logging.getLogger(__name__)

ATTACH_JS = (Path(__file__).parent / "assets" / "attach.js").read_text(encoding="utf-8")
CONNECT_TIMEOUT_S = 5.0     # a visitor who never connects does not hold up the next spare
KEEP_UNCONNECTED_S = 60.0   # a served session is kept this long for its page to connect
SETTLE_S = 0.3              # after the websocket opens: let the first patches go through first
QUIET_S = 2.0               # build only after this long without HTTP requests or websocket traffic


def unused_bundles(doc_json: str, js_files: list[str]) -> set[str]:
    """The script URLs among `js_files` that a document (its JSON text) never needs."""
    drop = set()
    for url in js_files:
        name = str(url).rsplit("/", 1)[-1]
        if name.startswith("bokeh-gl") and '"output_backend":"webgl"' not in doc_json:
            drop.add(url)
        elif "es-module-shims" in name and '"esm":' not in doc_json:
            drop.add(url)
    return drop


TOKEN_SLOT = "__cnnx_session_token__"   # where the visitor's own token goes in a prepared page


@dataclass
class Spare:
    """A built session and its page, ready except for the visitor's token. `stale` is set if
    the document changes after its page was rendered (the page would then show an old copy)."""
    session: ServerSession
    page: str
    requester: Requester
    stale: bool = False

    def __post_init__(self) -> None:
        self.session.document.on_change(self._changed)

    def _changed(self, event: Any) -> None:
        self.stale = True

    def current_page(self) -> str:
        """The page, rendered again if the document changed since; stops watching for changes."""
        self.session.document.remove_on_change(self._changed)
        if self.stale:
            log.warning("session %s changed while it waited: its page is rendered again", self.session.id)
            self.page = render_page(self.session, self.requester)
        return self.page


@dataclass
class Requester:
    """What building a session needs from a page request (Bokeh hands it to the session)."""
    context: Any        # bokeh.server.contexts.ApplicationContext
    app: Any            # the tornado application (secret key, resources, token expiry)
    request: HTTPServerRequest
    payload: dict[str, Any]
    app_path: str


class SparePool:
    """Up to SPARES idle, fully built sessions per application, ready for the next page requests."""

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self._spares: dict[Any, list[asyncio.Future[Spare]]] = {}
        self._building: set[Any] = set()
        self.last_activity = 0.0   # loop time of the last HTTP request or websocket message (handled)

    def note_activity(self) -> None:
        """A page is loading or a visitor is working: the next build waits for a quiet moment."""
        self.last_activity = asyncio.get_event_loop().time()

    def top_up(self, who: Requester) -> None:
        """Build spares one after another until there are `size` of them, each once the server
        has been quiet for QUIET_S: a build holds the only thread, and a page whose scripts are
        still loading, or a visitor's next click, would wait for it. Never forced: while the
        server is never quiet the pool runs dry and a page request builds its own session, as
        Panel's server does (on a loaded machine a press waited 9 s behind a build)."""
        spares = self._spares.setdefault(who.context, [])
        if who.context in self._building or len(spares) >= self.size:
            return
        loop = asyncio.get_event_loop()
        wait = QUIET_S - (loop.time() - self.last_activity)
        if wait > 0:
            loop.call_later(wait, self.top_up, who)
            return
        self._building.add(who.context)
        future = asyncio.ensure_future(self._build(who))
        spares.append(future)

        def next_one(_: asyncio.Future[Spare]) -> None:
            self._building.discard(who.context)
            if not future.exception():
                asyncio.get_event_loop().call_later(0.05, self.top_up, who)

        future.add_done_callback(next_one)

    async def _build(self, who: Requester) -> Spare:
        start = asyncio.get_event_loop().time()
        app = who.app
        session_id = generate_session_id(secret_key=app.secret_key, signed=app.sign_sessions)
        token = generate_jwt_token(session_id, secret_key=app.secret_key, signed=app.sign_sessions,
                                   expiration=app.session_token_expiration, extra_payload=who.payload)
        session = await who.context.create_session_if_needed(session_id, who.request, token)
        session.block_expiration()  # idle on purpose: Bokeh would discard it as unused
        keep_every_change(session.document)
        spare = Spare(session, render_page(session, who), who)
        log.debug("spare session %s built in %.2f s", session.id, asyncio.get_event_loop().time() - start)
        return spare

    async def take(self, who: Requester) -> Spare:
        """The oldest spare (built now if there is none); its expiry stays blocked until its page
        connects (refill_after_connect)."""
        spares = self._spares.setdefault(who.context, [])
        ready = [f for f in spares if f.done()]
        future = (ready or spares or [None])[0]
        if future is None:
            future = asyncio.ensure_future(self._build(who))
        else:
            spares.remove(future)
        try:
            spare = await future
        except Exception:
            log.exception("a spare session could not be built; building one for this request")
            spare = await self._build(who)
        return spare

    def refill_after_connect(self, who: Requester, session: ServerSession) -> None:
        """Top up once `session`'s page has connected (or given up): building a session holds
        the server's only thread, and the visitor's scripts and websocket come first.

        Until the page connects (or KEEP_UNCONNECTED_S passes) the session also stays exempt
        from Bokeh's clean-up of unused sessions: a page that took longer than the unused-session
        lifetime to load would otherwise get a new session under the same id, whose document is
        not the one the page shows (every change from the page then names unknown models)."""
        loop = asyncio.get_event_loop()
        start = loop.time()
        refilled = False

        def check() -> None:
            nonlocal refilled
            waited = loop.time() - start
            connected = session.connection_count > 0
            if not refilled and (connected or waited > CONNECT_TIMEOUT_S or session.destroyed):
                refilled = True
                loop.call_later(SETTLE_S, self.top_up, who)
            if session.destroyed:
                return
            if connected or waited > KEEP_UNCONNECTED_S:
                session.unblock_expiration()
                # Bokeh counts an unconnected session's idle time from its creation: start it now.
                session._last_unsubscribe_time = current_time()
            else:
                loop.call_later(0.05, check)

        check()


POOL = SparePool()


def keep_every_change(doc: Any) -> None:
    """Have Panel send every later change of `doc` the usual way, as for a connected session.

    Until a session's page reports `document_ready`, Panel takes it to be unconnected and
    drops the model changes made under its `hold()` (the "Show feature maps" button's, among
    others): Panel's own page pulls the whole document once its websocket opens, so they would
    reach it anyway. A prebuilt page never pulls, so a change dropped there never reaches it
    and the page and its session part: a press handled before `document_ready` left the button
    on the page and the maps only on the server. Marked connected from its build on, the
    session's changes go through Bokeh (to the websocket once there is one; to `Spare.stale`
    before the page is served). docs/design.md §5.
    """
    state._connected[doc] = True


def render_page(session: ServerSession, who: Requester) -> str:
    with set_curdoc(session.document):
        return page_with_document(session, Resources.from_bokeh(who.app.resources()), TOKEN_SLOT, who.app_path)


def page_with_document(session: ServerSession, resources: Any, token: str, app_path: str) -> str:
    """The HTML page for `session`: its document inline, the token to attach to it."""
    doc = session.document
    dist_url = f"{state.rel_path}/{LOCAL_DIST}" if state.rel_path else LOCAL_DIST
    doc._template_variables["dist_url"] = dist_url
    for root in doc.roots:
        patch_model_css(root, dist_url=dist_url)
    docid = make_id()
    doc_json = doc.to_json(deferred=False)
    bundle = bundle_resources(doc.roots, resources)
    drop = unused_bundles(serialize_json(doc_json), bundle.js_files)
    bundle.js_files = [url for url in bundle.js_files if url not in drop]
    config = serialize_json({"token": token, "app_path": app_path}).replace("</", "<\\/")
    variables = dict(doc.template_variables)
    variables["html_attrs"] = 'data-tier="static"'
    variables["cnnx_attach"] = (f'<script type="application/json" id="cnnx-session">{config}</script>\n'
                                f"<script>{ATTACH_JS}</script>")
    return html_page_for_render_items(bundle, {docid: doc_json}, [RenderItem(docid=docid, roots=doc.roots)],
                                      doc.title, template=doc.template, template_variables=variables)


class ActivityWSHandler(WSHandler):
    """Panel's websocket handler, noting each message when it arrives and when the server has
    handled it: a spare built while a visitor's changes and clicks arrive, or while the answer
    to one is being computed, would hold them up for the length of a build (0.5-1 s on a quiet
    machine, up to 9 s measured on a loaded one)."""

    async def on_message(self, fragment: Any) -> None:
        POOL.note_activity()
        try:
            await super().on_message(fragment)
        finally:
            POOL.note_activity()


class PrebuiltDocHandler(DocHandler):
    """The app's page: a prebuilt session's document inline (see the module docstring)."""

    def requester(self) -> Requester:
        return Requester(self.application_context, self.application, self.request,
                         self._generate_token_payload(), self.request.path.rstrip("/"))

    async def get(self, *args: Any, **kwargs: Any) -> None:
        # As Panel's handler: the page embeds a session token, so it must never be cached.
        self.set_header("Cache-Control", "no-store")
        _set_request_route_context(self, *args, **kwargs)
        who = self.requester()
        spare = await POOL.take(who)
        app = self.application
        token = generate_jwt_token(spare.session.id, secret_key=app.secret_key, signed=app.sign_sessions,
                                   expiration=app.session_token_expiration, extra_payload=who.payload)
        self.set_header("Content-Type", "text/html")
        self.write(spare.current_page().replace(TOKEN_SLOT, token, 1))
        POOL.refill_after_connect(who, spare.session)


def warm_up(server: Any, host: str) -> None:
    """Build the first spares as soon as the server runs, before anyone asks for a page, and
    note every finished HTTP request (SparePool.top_up waits for a quiet moment; websocket
    messages are noted by ActivityWSHandler)."""
    app = server._tornado
    log_request = app.log_request

    def noting(handler: Any) -> None:
        POOL.note_activity()
        log_request(handler)

    app.log_request = noting
    for path, context in server._tornado._applications.items():
        request = HTTPServerRequest(method="GET", uri=path, headers=HTTPHeaders({"Host": host}))
        POOL.top_up(Requester(context, server._tornado, request,
                              {"headers": {"Host": host}, "cookies": {}, "arguments": {}}, path.rstrip("/")))
