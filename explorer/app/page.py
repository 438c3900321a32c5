"""The page: header, diagram, layer buttons, details card, statistics table, code, editor.

The state (last valid network, selection, messages) is owned by `ExplorerState`
(explorer/app/state.py); this module lays the parts out and keeps the Bokeh views in step
with the state. Every change goes through the state's actions (docs/design.md §3).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import panel as pn
import param
from bokeh.models import CustomJS, Div

from ..analysis import Analysis
from ..spec import Network
from ..text import html
from ..urlstate import encode_arch, parse_fragment
from .busy import BUSY_CSS, busy_html, run_soon
from .state import ExplorerState
from .theme import FEATURES_HINT, FEATURES_TITLE, heading_html
from .views import Views

if TYPE_CHECKING:
    from .featureview import FeatureView

TITLE = "CNN Architecture Explorer"

STATIC_NOTE = ("Editing the network needs Python, which is not running in this page: layer selection, "
               "the details card and the table work; to edit, open the live site or run "
               "<code>python -m explorer serve</code>.")

_HEADER_CSS = """
.cnnx-head h1 { font-size: 24px; margin: 4px 0; } .cnnx-head p { margin: 2px 0; color: #57606a; }
"""


class Explorer:
    """One page. `live=False` builds the static page (no editor, no Python callbacks).

    The state lives in `self.state` (an `ExplorerState`); the page, the editor and the
    feature view watch it, and `select`/`apply_json`/`load_fragment` delegate to it.
    """

    def __init__(self, network: Network | None = None, *, live: bool = True, fragment: str = "") -> None:
        self.state = ExplorerState(network)
        self.live = live
        self.views = Views(self.state.network)
        self.notice = pn.pane.HTML("", sizing_mode="stretch_width")
        self.busy = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[BUSY_CSS])
        self.state.defer = lambda callback: run_soon(callback)   # looked up at call time (tests replace it)
        # Python writes the encoded network here; a client callback mirrors it into the URL.
        self.url_sink = Div(name="cnnx-url", text="", visible=False)
        self.url_sink.js_on_change("text", CustomJS(code="""
            const params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
            if (cb_obj.text) params.set("arch", cb_obj.text); else params.delete("arch");
            try { history.replaceState(null, "", "#" + params.toString()); } catch (e) {}"""))
        # The reverse direction: on `hashchange` the page's JS (on_ready.js) writes the new
        # fragment here when its arch= differs from the network shown; Python loads it. Works
        # alike on the Panel server and in Pyodide, since both sync Bokeh properties back.
        self.url_source = Div(name="cnnx-url-in", text="", visible=False)
        self.editor = None
        self.features = None            # the FeatureView, built on first use (show_features)
        self.teaching = None
        self.features_slot: pn.Column | None = None
        # The page's own views follow the state first; editor and features watch it themselves.
        self.state.param.watch(self._on_state, ["network", "selection"])
        self.state.param.watch(self._on_message, ["notice", "error"])
        self.state.param.watch(lambda e: setattr(self.busy, "object", busy_html(e.new) if e.new else ""), "busy")
        if live:
            from .editor import Editor
            from .teachview import TeachingView
            self.editor = Editor(self.state)
            self.teaching = TeachingView(self.state)
            self.features_slot = self._features_placeholder()
            self.views.source.selected.on_change("indices", self._on_browser_select)
            self.url_source.on_change("text", lambda _a, _o, new: self.load_fragment(new or ""))
        self.layout = self._layout()
        if fragment:
            self.load_fragment(fragment)

    def load_fragment(self, fragment: str) -> None:
        """Apply `#layer=…&arch=…&hide=…`. A corrupted arch keeps the current network and says so."""
        frag = parse_fragment(fragment)

        def select_layer() -> None:   # on the link's network, once it is shown
            index = self.state.index_of(frag.layer)
            if index is not None:
                self.state.select(index)
                self.views.source.selected.indices = [index]   # the static page has no watcher-driven Python

        if frag.arch and self.live and frag.arch != self.url_sink.text:
            self.state.load_link(frag.arch, then=select_layer)
        else:
            select_layer()
        hidden = {f"cnnx-part-{part}" for part in frag.hide}
        if "cnnx-part-table" in hidden:
            hidden.add("cnnx-part-tableheading")
        for obj in self._parts:
            if getattr(obj, "name", None) in hidden:
                obj.visible = False

    def show_features(self) -> FeatureView | None:
        """Build the feature view and put it in its slot (the "Show feature maps" button).

        Built on first use, not with the page: its figures and forward pass are a third of
        the live page's start-up in Pyodide, and most visits never scroll to it
        (docs/design.md §5). Returns the FeatureView; a second call returns the same one.
        """
        if self.features is None and self.features_slot is not None:
            from .featureview import FeatureView
            with pn.io.hold():
                self.features = FeatureView(self.state)
                self.features_slot.objects = [self.features.layout]
        return self.features

    def _features_placeholder(self) -> pn.Column:
        button = pn.widgets.Button(label="Show feature maps", color="primary",
                                   description="Runs a forward pass of a sample image through this network")
        button.on_click(lambda _e: self.show_features())
        return pn.Column(
            pn.pane.HTML(heading_html(FEATURES_TITLE, FEATURES_HINT), sizing_mode="stretch_width"),
            button, sizing_mode="stretch_width", name="cnnx-part-features", css_classes=["cnnx-part-features"],
            styles={"min-width": "0px", "max-width": "100%"})

    # -- layout -------------------------------------------------------------------------------
    def _layout(self) -> pn.Column:
        v = self.views
        header = pn.pane.HTML(
            f'<div class="cnnx-head"><h1>{TITLE}</h1><p>Click a block or a layer button to see what the layer '
            f'does, its output shape, its parameters and its PyTorch code.</p></div>',
            sizing_mode="stretch_width", stylesheets=[_HEADER_CSS], name="cnnx-part-header",
            css_classes=["cnnx-part-header"])
        diagram = pn.Column(pn.pane.Bokeh(v.figure, sizing_mode="stretch_width"), sizing_mode="stretch_width",
                            styles={"overflow-x": "auto", "min-width": "0px"})  # else its min_width widens the page
        editor = (self.editor.layout if self.editor is not None else
                  pn.pane.HTML(f'<p class="cnnx-static-note" style="color:#57606a">{STATIC_NOTE}</p>',
                               sizing_mode="stretch_width", name="cnnx-part-editor",
                               css_classes=["cnnx-part-editor"]))
        features = (self.features_slot if self.features_slot is not None else
                    pn.pane.HTML('<p class="cnnx-static-note" style="color:#57606a">Feature maps from a real forward '
                                 'pass need Python, which is not running in this page.</p>',
                                 sizing_mode="stretch_width", name="cnnx-part-features",
                                 css_classes=["cnnx-part-features"]))
        heading = pn.pane.HTML(heading_html("Network statistics"),
                               sizing_mode="stretch_width", name="cnnx-part-tableheading",
                               css_classes=["cnnx-part-tableheading"])
        teaching = [self.teaching.layout] if self.teaching is not None else []
        self._parts = [header, v.figure, v.legend, v.nav, v.card, v.table, v.code, v.summary, editor, v.insights,
                       v.quiz_toggle, features, heading, *teaching]
        return pn.Column(header, self.notice, self.busy, v.summary, diagram, v.legend, v.nav, v.quiz_toggle, v.live, v.card,
                         editor, features, heading, v.table, v.insights, *teaching, v.code, self.url_sink,
                         self.url_source, sizing_mode="stretch_width", max_width=1400,
                         styles={"margin": "0 auto", "padding": "0 8px", "min-width": "0px"})

    @staticmethod
    def _notice_html(message: str) -> str:
        if not message:
            return ""
        return (f'<div role="alert" style="border:1px solid #bf8700;background:#fff8c5;padding:8px 12px;'
                f'border-radius:6px">{html(message)}</div>')

    # -- state --------------------------------------------------------------------------------
    @property
    def analysis(self) -> Analysis:
        return self.state.network

    @property
    def network(self) -> Network:
        return self.state.network.network

    @property
    def selected(self) -> int | None:
        return self.state.selection

    def select(self, name: str) -> None:
        """Select a record by name (KeyError when there is none)."""
        self.state.select(name)

    def apply_json(self, data: dict[str, Any]) -> str | None:
        """Validate and show a candidate network; return the error message, or None."""
        return self.state.apply_json(data)

    def _on_state(self, *events: param.parameterized.Event) -> None:
        """Network and/or selection changed: redraw the Bokeh views (one batched update)."""
        state = self.state
        if any(e.name == "network" for e in events):
            selected = self.views.source.selected
            if self.live:
                selected.remove_on_change("indices", self._on_browser_select)
            try:
                self.views.update(state.network, state.selection)
            finally:
                if self.live:
                    selected.on_change("indices", self._on_browser_select)
            self.url_sink.text = encode_arch(state.network.network)
        else:
            wanted = [] if state.selection is None else [state.selection]
            if self.views.source.selected.indices != wanted:
                self.views.source.selected.indices = wanted

    def _on_message(self, *_events: param.parameterized.Event) -> None:
        """Edit refusals go to the editor when there is one; page-level messages to the notice."""
        message = self.state.notice or (self.state.error if self.editor is None else "")
        self.notice.object = self._notice_html(message)

    def _on_browser_select(self, _attr: str, old: Any, new: list[int]) -> None:
        index = new[0] if new else None
        n = len(self.state.network.records)
        if index is not None and not 0 <= index < n:
            # Selected in the browser on the previous network, arriving after the new one:
            # put the selection Python made back (the browser follows), never a stale index.
            self.views.source.selected.indices = [i for i in (old or []) if 0 <= i < n][:1]
            return
        self.state.select(index)


def create_app(network: Network | None = None, *, live: bool = True, fragment: str = "") -> pn.Column:
    """The app's layout. `fragment` is the URL hash (layer=…, arch=…, hide=…).

    Registers the page's client-side set-up on the current document when there is one
    (Panel server, Pyodide); the static export registers it itself.
    """
    explorer = Explorer(network, live=live, fragment=fragment)
    if pn.state.curdoc is not None:
        pn.state.curdoc.js_on_event("document_ready", explorer.views.ready())
    return explorer.layout
