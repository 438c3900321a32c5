"""Benchmark: a graph network (ResNet-50, 3×224×224) in the static export, headless Chromium.

    python bench/graph_page.py [--runs N]

Not a test: it prints figures and exits 0.
- Export size (raw, gzip) and the time `python -m explorer export` takes.
- Python layout (explorer/app/graphview.layout) with every block open.
- In the page: open/close a block (window.cnnxToggle: layout, diagram, tree and table) until
  the next animation frame; selection → card for a nested layer (opens its blocks on the way);
  "Expand all". p50/p95 over N rounds.
"""
from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "unit"))

from graph_examples import resnet  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from explorer.analysis import analyse  # noqa: E402
from explorer.app import graphview  # noqa: E402
from explorer.spec import from_json  # noqa: E402

CHROMIUM = "/usr/lib/chromium/chromium"
TIMED = """async ([code, arg]) => {
  const t0 = performance.now();
  (new Function('arg', code))(arg);
  const t1 = performance.now();
  await new Promise((r) => requestAnimationFrame(() => r()));
  return [t1 - t0, performance.now() - t0];
}"""


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    runs = ap.parse_args().runs
    arch = resnet(50)
    t = graphview.tree(analyse(from_json(arch)))
    t0 = time.perf_counter()
    graphview.layout(t, {i for i, k in enumerate(t.kind) if k})
    print(f"python layout, ResNet-50 all open: {1000 * (time.perf_counter() - t0):.1f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "r50.json").write_text(json.dumps(arch))
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "explorer", "export", str(folder / "r50.html"), str(folder / "r50.json")],
                       cwd=ROOT, check=True, capture_output=True)
        html = (folder / "r50.html").read_bytes()
        print(f"export: {len(html) / 1e6:.2f} MB raw, {len(gzip.compress(html)) / 1e6:.2f} MB gzip, "
              f"{time.perf_counter() - t0:.1f} s")
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=tmp)
        handler.log_message = lambda *a: None
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{httpd.server_address[1]}/r50.html"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            t0 = time.perf_counter()
            page.goto(url)
            page.wait_for_function("() => typeof window.cnnxGraphRender === 'function'")
            print(f"navigation → graph helpers ready: {time.perf_counter() - t0:.2f} s")
            idx = page.evaluate("(n) => Bokeh.documents[0].get_model_by_name('cnnx-layers').data.name.indexOf(n)",
                                "layer3")
            deep = page.evaluate("(n) => Bokeh.documents[0].get_model_by_name('cnnx-layers').data.name.indexOf(n)",
                                 "layer3.4.conv2")
            toggle, select, expand = [], [], []
            for _ in range(runs):
                toggle.append(page.evaluate(TIMED, ["cnnxToggle(arg)", idx])[1])
                toggle.append(page.evaluate(TIMED, ["cnnxToggle(arg)", idx])[1])
                page.evaluate("cnnxOpenAll(false)")
                select.append(page.evaluate(TIMED, [
                    "const s = Bokeh.documents[0].get_model_by_name('cnnx-layers'); s.selected.indices = [arg];",
                    deep])[1])
                page.evaluate("() => Bokeh.documents[0].get_model_by_name('cnnx-layers').selected.indices = []")
                expand.append(page.evaluate(TIMED, ["cnnxOpenAll(true)", 0])[1])
                page.evaluate("cnnxOpenAll(false)")
            for name, values in (("open/close layer3", toggle), ("select layer3.4.conv2 (opens its blocks)", select),
                                 ("expand all", expand)):
                print(f"{name}: p50 {pct(values, 0.5):.1f} ms, p95 {pct(values, 0.95):.1f} ms "
                      f"(to next frame, n={len(values)}, mean {statistics.mean(values):.1f})")
            browser.close()
        httpd.shutdown()


if __name__ == "__main__":
    main()
