"""The page: header, diagram, layer buttons, details card, statistics table, code, editor.

`Explorer` owns the last valid network. Every change goes through `apply()`, which
validates with the core and either redraws everything or shows the error and keeps
what was on screen.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

import panel as pn
from bokeh.models import CustomJS, Div

from ..analysis import Analysis, analyse
from ..features import BUSY_SECONDS, update_seconds
from ..spec import ArchitectureError, Network, default_network, from_json
from ..text import html
from ..urlstate import decode_arch, encode_arch, parse_fragment
from .busy import BUSY_CSS, busy_html, run_soon
from .views import Views

log = logging.getLogger(__name__)

TITLE = "CNN Architecture Explorer"

STATIC_NOTE = ("Editing the network needs Python, which is not running in this page: layer selection, "
               "the details card and the table work; to edit, open the live site or run "
               "<code>python -m explorer serve</code>.")

_HEADER_CSS = """
.cnnx-head h1 { font-size: 24px; margin: 4px 0; } .cnnx-head p { margin: 2px 0; color: #57606a; }
"""


class Explorer:
    """One page. `live=False` builds the static page (no editor, no Python callbacks)."""

    def __init__(self, network: Network | None = None, *, live: bool = True, fragment: str = "") -> None:
        self.analysis: Analysis = analyse(network or default_network())
        self.live = live
        self.views = Views(self.analysis)
        self.notice = pn.pane.HTML("", sizing_mode="stretch_width")
        self.busy = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[BUSY_CSS], name="cnnx-busy")
        self._generation = 0   # a newer network makes a pending (deferred) one stale
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
        self.features = None
        self._updating = False
        if live:
            from .editor import Editor
            from .featureview import FeatureView
            self.editor = Editor(self.apply_json)
            self.editor.show(self.network, None)
            self.features = FeatureView()
            self.features.show_network(self.analysis)
            self.views.source.selected.on_change("indices", self._on_select)
            self.url_source.on_change("text", lambda _a, _o, new: self.load_fragment(new or ""))
        self.layout = self._layout()
        if fragment:
            self.load_fragment(fragment)

    def load_fragment(self, fragment: str) -> None:
        """Apply `#layer=…&arch=…&hide=…`. A corrupted arch keeps the current network and says so."""
        frag = parse_fragment(fragment)

        def select_layer() -> None:   # on the network of the link, once it is shown
            index = self._index_of(frag.layer)
            if index is not None:
                self.views.source.selected.indices = [index]

        if frag.arch and self.live and frag.arch != self.url_sink.text:
            try:
                candidate = decode_arch(frag.arch)
                analysis = analyse(candidate)
            except ArchitectureError as exc:
                self.notice.object = self._notice_html(
                    f"The network in the link could not be loaded: {exc}. The network on screen is unchanged.")
                select_layer()
            except Exception as exc:   # noqa: BLE001 - a hostile link must never stop the page
                log.exception("loading the network from the link failed")
                self.notice.object = self._notice_html(
                    f"The network in the link could not be loaded ({exc.__class__.__name__}: {exc}). "
                    "The network on screen is unchanged.")
                select_layer()
            else:
                self._show_soon(analysis, clear_notice=True, then=select_layer)
        else:
            select_layer()
        hidden = {f"cnnx-part-{part}" for part in frag.hide}
        if "cnnx-part-table" in hidden:
            hidden.add("cnnx-part-tableheading")
        for obj in self._parts:
            if getattr(obj, "name", None) in hidden:
                obj.visible = False

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
        features = (self.features.layout if self.features is not None else
                    pn.pane.HTML('<p class="cnnx-static-note" style="color:#57606a">Feature maps from a real forward '
                                 'pass need Python, which is not running in this page.</p>',
                                 sizing_mode="stretch_width", name="cnnx-part-features",
                                 css_classes=["cnnx-part-features"]))
        heading = pn.pane.HTML("<h2 style='font-size:18px;margin:8px 0 0'>Network statistics</h2>",
                               sizing_mode="stretch_width", name="cnnx-part-tableheading",
                               css_classes=["cnnx-part-tableheading"])
        self._parts = [header, v.figure, v.legend, v.nav, v.card, v.table, v.code, v.summary, editor, v.insights,
                       v.quiz_toggle, features, heading]
        return pn.Column(header, self.notice, self.busy, v.summary, diagram, v.legend, v.nav, v.quiz_toggle, v.live, v.card,
                         editor, features, heading, v.table, v.insights, v.code, self.url_sink, self.url_source,
                         sizing_mode="stretch_width", max_width=1400,
                         styles={"margin": "0 auto", "padding": "0 8px", "min-width": "0px"})

    @staticmethod
    def _notice_html(message: str) -> str:
        if not message:
            return ""
        return (f'<div role="alert" style="border:1px solid #bf8700;background:#fff8c5;padding:8px 12px;'
                f'border-radius:6px">{html(message)}</div>')

    # -- state --------------------------------------------------------------------------------
    @property
    def network(self) -> Network:
        return self.analysis.network

    def _index_of(self, name: str | None) -> int | None:
        if name is None:
            return None
        names = [r.name for r in self.analysis.records]
        return names.index(name) if name in names else None

    @property
    def selected(self) -> int | None:
        indices = self.views.source.selected.indices
        return indices[0] if indices else None

    def select(self, name: str) -> None:
        index = self._index_of(name)
        if index is None:
            raise KeyError(name)
        self.views.source.selected.indices = [index]

    def _on_select(self, _attr: str, old: Any, new: list[int]) -> None:
        if self._updating:   # _show() moves the selection itself and then updates editor and features
            return
        index = new[0] if new else None
        n = len(self.analysis.records)
        if index is not None and not 0 <= index < n:
            # Selected in the browser on the previous network, arriving after the new one:
            # put the selection Python made back (the browser follows), never a stale index.
            self.views.source.selected.indices = [i for i in (old or []) if 0 <= i < n][:1]
            return
        try:
            if self.editor is not None:
                self.editor.show(self.network, index)
            if self.features is not None:
                self.features.show_layer(index)
        except Exception as exc:   # noqa: BLE001 - say it on the page; card and diagram still work
            log.exception("updating the editor/feature maps for a selection failed")
            self.notice.object = self._notice_html(
                f"Selecting this layer failed in the editor or the feature maps ({exc.__class__.__name__}: {exc}); "
                "the card and the diagram are up to date.")

    def apply_json(self, data: dict[str, Any]) -> str | None:
        """Validate and show a candidate network; return the error message, or None.

        Any failure (not only an ArchitectureError) keeps the last valid network everywhere
        and is explained on the page.
        """
        try:
            network = from_json(data)
            analysis = analyse(network)
        except ArchitectureError as exc:
            return self._refuse(str(exc))
        except Exception as exc:   # noqa: BLE001 - e.g. a RecursionError from a pathological dict
            log.exception("validating a network failed")
            return self._refuse(f"This network could not be checked ({exc.__class__.__name__}: {exc}). "
                                "The network on screen is unchanged.")
        if not self._show_soon(analysis):
            return self._refuse("This network could not be shown (the details are in the notice above). "
                                "The network on screen is unchanged.")
        return None

    def _show_soon(self, analysis: Analysis, *, clear_notice: bool = False,
                   then: Callable[[], None] | None = None) -> bool:
        """Show `analysis`; when that will take more than BUSY_SECONDS, say so first and do it
        on the next turn of the event loop (then a failure is reported in the notice)."""
        self._generation += 1
        generation = self._generation

        def finish() -> bool:
            if generation != self._generation:
                return True          # a newer network was applied meanwhile
            shown = self._show(analysis)
            if shown and clear_notice:
                self.notice.object = ""
            if then is not None:
                then()
            self.busy.object = ""     # last: it stays up until everything above is done
            return shown

        seconds = update_seconds(analysis)
        if seconds > BUSY_SECONDS:
            self.busy.object = busy_html(f"Working: showing “{analysis.network.name}” "
                                         f"({len(analysis.records) - 1} layers), about {max(1, round(seconds))} s…")
            if run_soon(finish):
                return True
        return finish()

    def _refuse(self, message: str) -> str:
        if self.editor is not None:
            self.editor.show_error(message)
        else:
            self.notice.object = self._notice_html(message)
        return message

    def _show(self, analysis: Analysis) -> bool:
        """Show `analysis` everywhere; on any failure put the previous network back everywhere,
        say so in the notice and return False."""
        previous = self.analysis
        try:
            self._draw(analysis)
        except Exception as exc:   # noqa: BLE001 - the page must stay consistent whatever failed
            log.exception("showing a network failed; restoring the previous one")
            try:
                self._draw(previous)
            except Exception:   # noqa: BLE001 - the previous network was shown before: should not happen
                log.exception("restoring the previous network failed")
            self.notice.object = self._notice_html(
                f"Showing the new network failed ({exc.__class__.__name__}: {exc}); the last valid network "
                "is shown instead.")
            return False
        return True

    def _draw(self, analysis: Analysis) -> None:
        keep = self.editor.index if self.editor is not None else self.selected
        self.analysis = analysis
        n = len(analysis.records)
        selected = keep if keep is not None and keep < n else None
        self._updating = True
        try:
            self.views.update(analysis, selected)
        finally:
            self._updating = False
        self.url_sink.text = encode_arch(analysis.network)
        if self.editor is not None:
            self.editor.show_error(None)
            self.editor.show(analysis.network, selected)
        if self.features is not None:
            self.features.show_network(analysis, selected)   # never raises: failures are shown there


def create_app(network: Network | None = None, *, live: bool = True, fragment: str = "") -> pn.Column:
    """The app's layout. `fragment` is the URL hash (layer=…, arch=…, hide=…).

    Registers the page's client-side set-up on the current document when there is one
    (Panel server, Pyodide); the static export registers it itself.
    """
    explorer = Explorer(network, live=live, fragment=fragment)
    if pn.state.curdoc is not None:
        pn.state.curdoc.js_on_event("document_ready", explorer.views.ready())
    return explorer.layout
