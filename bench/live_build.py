"""Where the live page's app-build time goes, measured inside Pyodide in the built site.

    python bench/live_build.py SITE_DIR [--rounds N]

Opens SITE_DIR's index.html in headless Chromium, waits for the live tier, then runs Python in
the page's own interpreter (window.cnnExplorer.python) to time, part by part: importing the
explorer's modules (re-imported from scratch), the state, the Bokeh views, the editor, the
teaching view, the feature view (built on first use since issue 12), the whole live Explorer,
and building its Bokeh models into the live document. Round 1 is the first time in that
interpreter (closest to start-up); later rounds show the warmed-up cost. Prints ms per part.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pagetiming import CHROMIUM, OFFLINE_ARGS as ARGS, serve  # noqa: E402

CODE = r'''
import sys, time
out = []
def tm(label, f):
    t = time.perf_counter(); r = f(); out.append(f"{label:34} {1000 * (time.perf_counter() - t):7.0f} ms"); return r
saved = {m: sys.modules[m] for m in list(sys.modules) if m.startswith("explorer")}
for m in saved:
    del sys.modules[m]
tm("import explorer.app.page", lambda: __import__("explorer.app.page"))
tm("import editor, teachview", lambda: (__import__("explorer.app.editor"), __import__("explorer.app.teachview")))
tm("import featureview", lambda: __import__("explorer.app.featureview"))
from explorer.app.editor import Editor
from explorer.app.featureview import FeatureView
from explorer.app.page import Explorer
from explorer.app.state import ExplorerState
from explorer.app.teachview import TeachingView
from explorer.app.views import Views
from panel.io.state import state as _panel_state
st = tm("ExplorerState", lambda: ExplorerState(None))
tm("Views (diagram, card, table, code)", lambda: Views(st.network))
ed = tm("Editor", lambda: Editor(st))
from bokeh.document import Document
tm("  its Bokeh models (get_root)", lambda: ed.layout.get_root(Document()))
tm("TeachingView", lambda: TeachingView(st))
tm("FeatureView (first use)", lambda: FeatureView(st))
app = tm("Explorer(live=True), as at start-up", lambda: Explorer(live=True))
tm("its Bokeh models (get_root)", lambda: app.layout.get_root(_panel_state.curdoc))
for part in app.layout.objects:
    name = getattr(part, "name", "") or type(part).__name__
    tm(f"  part {name[:24]}", lambda: part.get_root(Document()))
for m, mod in saved.items():
    sys.modules[m] = mod
"\n".join(out)
'''


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("site", type=Path)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright
    httpd, base = serve(args.site)
    url = base + "index.html"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.goto(url)
        page.wait_for_function("document.documentElement.dataset.tier === 'live'", timeout=180_000)
        for i in range(args.rounds):
            print(f"round {i + 1}" + (" (first time in this interpreter)" if i == 0 else ""))
            print(page.evaluate("(code) => window.cnnExplorer.python(code)", CODE))
        browser.close()
    httpd.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
