"""Benchmark: a graph network (ResNet-50, 3×224×224) in the static export, headless Chromium.

    python bench/graph_page.py [--runs N] [--baseline REV]

Not a test: it prints figures and exits 0.
- Export size (raw, gzip) and the time `python -m explorer export` takes.
- Python layout (explorer/app/graphview.layout) with every block open.
- In the page, until the next animation frame: open/close a top-level block (window.cnnxToggle:
  layout, diagram, tree and table; the diagram box is tall enough for it); a click on its tree
  item (that and the selection: card, table row, URL); opening a block whose drawing is taller
  than the box (it grows: one relayout of the page); selection → card for a nested layer (opens
  its blocks on the way); "Expand all". p50/p95 over N rounds.
- `--baseline REV` also exports the same network with the code of git revision REV and
  measures both pages in the same browser, round by round in turn (the machine's load hits
  both alike), then prints the two side by side and their ratio.
"""
from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import io
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "unit"))

from graph_examples import resnet  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

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
INDEX = "(n) => Bokeh.documents[0].get_model_by_name('cnnx-layers').data.name.indexOf(n)"
SELECT = "const s = Bokeh.documents[0].get_model_by_name('cnnx-layers'); s.selected.indices = [arg];"
UNSELECT = "() => Bokeh.documents[0].get_model_by_name('cnnx-layers').selected.indices = []"
CLICK = """const nav = Bokeh.index.find_one(Bokeh.documents[0].get_model_by_name('cnnx-part-nav'));
(nav.markup_el || nav.el).querySelector('[role="treeitem"][data-i="' + arg + '"] > .cnnx-ti').click();"""
CASES = ("open/close layer3", "click layer3 in the tree (open/close, select, card)", "open layer3.0 (grows the box)", "select layer3.4.conv2 (opens its blocks)",
         "expand all")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


@dataclass
class Build:
    """One exported page and what was measured on it."""

    label: str
    html: Path
    times: dict[str, list[float]] = field(default_factory=lambda: {case: [] for case in CASES})
    page: Page | None = None


def export(code: Path, arch: Path, out: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "explorer", "export", str(out), str(arch)], cwd=code, check=True,
                   capture_output=True)
    return time.perf_counter() - t0


def checkout(rev: str, into: Path) -> Path:
    """The tree of git revision `rev` (its explorer package is what gets imported there)."""
    tar = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(into, filter="data")
    return into


def timed(page: Page, code: str, arg: object = 0) -> float:
    return page.evaluate(TIMED, [code, arg])[1]


def one_round(b: Build, at: dict[str, int]) -> None:
    """Open/close layer3 twice from "Collapse all"; open a bottleneck in it (its downsample
    branch makes the drawing taller than the box); select a nested layer; expand all."""
    page, t = b.page, b.times
    assert page is not None
    layer3 = at["layer3"]
    page.evaluate("cnnxOpenAll(false)")
    for _ in range(2):
        t["open/close layer3"].append(timed(page, "cnnxToggle(arg)", layer3))
        t["open/close layer3"].append(timed(page, "cnnxToggle(arg)", layer3))
    page.evaluate(UNSELECT)
    for _ in range(2):
        t["click layer3 in the tree (open/close, select, card)"].append(timed(page, CLICK, layer3))
    page.evaluate(UNSELECT)
    page.evaluate("cnnxOpenAll(false)")                            # the box back to its least height
    page.evaluate("(i) => cnnxToggle(i)", layer3)
    t["open layer3.0 (grows the box)"].append(timed(page, "cnnxToggle(arg)", at["layer3.0"]))
    page.evaluate("cnnxOpenAll(false)")
    t["select layer3.4.conv2 (opens its blocks)"].append(timed(page, SELECT, at["layer3.4.conv2"]))
    page.evaluate(UNSELECT)
    page.evaluate("cnnxOpenAll(false)")
    t["expand all"].append(timed(page, "cnnxOpenAll(true)"))


def summary(values: list[float]) -> str:
    return f"p50 {pct(values, 0.5):6.1f} ms, p95 {pct(values, 0.95):6.1f} ms (n={len(values)}, mean {statistics.mean(values):.1f})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--baseline", metavar="REV", help="also measure the page built by git revision REV")
    args = ap.parse_args()
    arch = resnet(50)
    t = graphview.tree(analyse(from_json(arch)))
    t0 = time.perf_counter()
    graphview.layout(t, {i for i, k in enumerate(t.kind) if k})
    print(f"python layout, ResNet-50 all open: {1000 * (time.perf_counter() - t0):.1f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "r50.json").write_text(json.dumps(arch))
        builds = [Build("this tree", folder / "r50.html")]
        seconds = export(ROOT, folder / "r50.json", builds[0].html)
        html = builds[0].html.read_bytes()
        print(f"export: {len(html) / 1e6:.2f} MB raw, {len(gzip.compress(html)) / 1e6:.2f} MB gzip, {seconds:.1f} s")
        if args.baseline:
            base = checkout(args.baseline, folder / "baseline")
            builds.append(Build(f"baseline {args.baseline}", folder / "baseline.html"))
            export(base, folder / "r50.json", builds[1].html)
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=tmp)
        handler.log_message = lambda *a: None
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM)
            for b in builds:
                b.page = browser.new_page(viewport={"width": 1280, "height": 900})
                t0 = time.perf_counter()
                b.page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/{b.html.name}")
                b.page.wait_for_function("() => typeof window.cnnxGraphRender === 'function'")
                print(f"{b.label}: navigation → graph helpers ready: {time.perf_counter() - t0:.2f} s")
            at = {name: builds[0].page.evaluate(INDEX, name) for name in ("layer3", "layer3.0", "layer3.4.conv2")}
            for b in builds:                                       # warm-up, not counted
                one_round(b, at)
                b.times = {case: [] for case in CASES}
            for _ in range(args.runs):
                for b in builds:
                    one_round(b, at)
            browser.close()
        httpd.shutdown()
    print("to the next animation frame, 1280×900:")
    for case in CASES:
        print(f"  {case}")
        for b in builds:
            print(f"    {b.label:>24}: {summary(b.times[case])}")
        if len(builds) == 2:
            now, then = (statistics.median(b.times[case]) for b in builds)
            print(f"    {'ratio (p50)':>24}: {now / then:.2f}× the baseline")


if __name__ == "__main__":
    main()
