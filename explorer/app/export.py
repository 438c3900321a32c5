"""`python -m explorer export OUT.html`: one self-contained, offline HTML file.

Panel's inline save still links a few stylesheets and icons to a CDN; those are inlined
here from the installed `panel/dist`, and the result is checked to load nothing remote.
"""
from __future__ import annotations

import base64
import io
import mimetypes
import re
from pathlib import Path

import panel as pn
from bokeh.document import Document
from bokeh.resources import INLINE
from panel.io.model import add_to_doc
from pyviz_comms import Comm

from ..spec import Network
from .page import TITLE, Explorer

PANEL_DIST = Path(pn.__file__).parent / "dist"
_PANEL_CDN = re.compile(r"https://cdn\.holoviz\.org/panel/[^/]+/dist/([\w./-]+?)(?:\?v=[\w.]+)?(?=[\"')\s])")
_ICON_LINK = re.compile(r'<link rel="(?:apple-touch-icon|icon)"[^>]*>')
FAVICON = ("data:image/svg+xml;base64," + base64.b64encode(
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect x="1" y="4" width="4" height="8" '
    b'fill="#0072b2"/><rect x="6" y="5" width="4" height="6" fill="#e69f00"/><rect x="11" y="6" width="4" '
    b'height="4" fill="#cc79a7"/></svg>').decode("ascii"))


def _inline_panel_asset(match: re.Match[str]) -> str:
    path = PANEL_DIST / match.group(1)
    if not path.is_file():
        raise FileNotFoundError(f"Panel asset {match.group(1)} is not in the installed package ({PANEL_DIST})")
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def make_offline(html: str) -> str:
    """Inline the Panel stylesheets that the save still links to a CDN; drop CDN favicons."""
    html = _ICON_LINK.sub("", html)
    html = html.replace("<head>", '<head>\n<meta name="viewport" content="width=device-width, initial-scale=1">'
                        f'\n<link rel="icon" href="{FAVICON}">', 1)
    html = re.sub(r"<html\b", '<html data-tier="static"', html, count=1)  # docs/design.md §3: no Python in this page
    return _PANEL_CDN.sub(_inline_panel_asset, html)


def render_static(network: Network | None = None) -> str:
    """The static page as HTML text: selection, card and table work with no Python."""
    pn.extension()
    explorer = Explorer(network, live=False)
    doc = Document()
    add_to_doc(explorer.layout.get_root(doc, Comm()), doc, True)
    doc.js_on_event("document_ready", explorer.views.ready("static"))
    buffer = io.StringIO()
    pn.io.save.save(doc, buffer, title=TITLE, resources=INLINE)
    return make_offline(buffer.getvalue())


def export_html(path: Path, network: Network | None = None) -> int:
    html = render_static(network)
    path.write_text(html, encoding="utf-8")
    return len(html.encode("utf-8"))
