"""Run the app script once in CPython and render its page (`panel convert`'s prerender).

Run as a separate process (`python -m pyodide_build.prerender ENTRY OUT.json`) because
PANEL_CDN_ROOT must be set before Panel is imported, and so the app's module state does not
leak into the builder. Writes {"html": ..., "title": ...}: Panel's own pyodide-worker page
for the script, which page.py then rewrites (local URLs, our loader instead of Panel's).
"""
from __future__ import annotations

import json
import os
import sys

# The same relative root is set in the worker before `import panel`, so the stylesheet URLs
# inside the live document equal the prerendered ones and resolve against the page.
PANEL_CDN_ROOT = "./panel/"


def main(argv: list[str]) -> int:
    entry, out = argv
    os.environ["PANEL_CDN_ROOT"] = PANEL_CDN_ROOT
    os.environ.setdefault("BOKEH_RESOURCES", "cdn")
    sys.path.insert(0, os.path.dirname(os.path.abspath(entry)))
    from panel.io.convert import script_to_html

    html, _worker = script_to_html(entry, requirements=[], runtime="pyodide-worker",
                                   prerender=True, panel_version="local")
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"html": html}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
