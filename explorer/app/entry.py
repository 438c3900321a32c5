"""The app as a Panel script: `panel convert` / the Pyodide worker run this file.

The URL fragment (layer, arch, hide) is read from `pn.state.location` when Panel syncs it,
or from the global `CNNX_HASH` that the site's loader sets inside a Pyodide worker (a
worker's own location has no fragment).

The site's page may keep its prerendered document (pyodide_build/adopt.py) when the fragment
asks only for a layer or hidden parts: the page applies those itself (assets/on_ready.js) and
sends Python what it changed, so this script may run without them. The next line says so.
"""
# pyodide_build: adopt-links
import panel as pn

from explorer.app.page import TITLE, Explorer


def _fragment() -> str:
    try:
        import js  # Pyodide only
        value = getattr(js, "CNNX_HASH", None)
        if value:
            return str(value)
    except ImportError:
        pass
    location = pn.state.location
    return (location.hash or "") if location is not None else ""


# No Panel extensions from other packages' entry points: the page uses none, and finding them
# reads every installed package's metadata (the email parser and all) at start-up.
pn.extension(load_entry_points=False)
explorer = Explorer(live=True, fragment=_fragment())
if pn.state.curdoc is not None:
    pn.state.curdoc.js_on_event("document_ready", explorer.views.ready())
explorer.layout.servable(title=TITLE)
