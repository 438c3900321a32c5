"""Benchmark: the page in headless Chromium (static export and desktop server).

    python bench/ui.py [--runs N] [--baseline REF]

Not a test: it prints figures and exits 0 (no assertions).
- Static export: file size, raw and gzip (`python -m explorer export`, default network).
- Navigation → first successful layer click, median of N fresh pages (new browser context
  each, so nothing is cached), over http://127.0.0.1 and file://. A click counts once the card
  shows the clicked layer; the in-page milestones (layer buttons painted, page handlers ready)
  show where the time goes.
- Selection → card update, in the page: performance.now() around setting the selection
  (`source.selected.indices`, the path every click/key/row takes) until the card's heading
  names the layer (MutationObserver), and until the next animation frame; all 17 layers,
  3 rounds, p50/p95.
- Desktop server: edit → redraw for a conv channel change (Conv1 out_channels, fill + Enter),
  timed in the page from the Enter keydown until the table total and the card show the new
  network, and the next frame; median of N.
With `--baseline REF` (e.g. main) the desktop server of REF, checked out in a temporary git
worktree, runs beside this checkout's: its first clicks alternate with this one's, page by page,
and its edits are timed right after, so both see the same machine load (run-to-run spread
is about ±1 s here: only figures from one run compare).
Every page runs with --host-resolver-rules that resolve nothing but 127.0.0.1, and the
number of requests that tried to leave 127.0.0.1 is printed.
"""
from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from playwright.sync_api import sync_playwright  # noqa: E402

from e2e_support import (CHROMIUM_ARGS, CHROMIUM, READY_JS, expected_layers, free_port, is_local,  # noqa: E402
                         start_server, stop_server)
from pagetiming import load_line, measure_edits  # noqa: E402

LAYERS = expected_layers()

# Milestones recorded in the page from the first script on (ms since navigation start).
MILESTONES_JS = """
(() => {
  const marks = window.__cnnxMarks = {};
  function deepFind(root, sel) {
    const hit = root.querySelector(sel);
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) { const h = deepFind(el.shadowRoot, sel); if (h) return h; }
    }
    return null;
  }
  function poll() {
    if (marks.buttons == null && document.body && deepFind(document, 'button[data-i]')) {
      marks.buttons = performance.now();
    }
    if (marks.handlers == null && typeof window.cnnxSelect === 'function') marks.handlers = performance.now();
    if (marks.buttons == null || marks.handlers == null) requestAnimationFrame(poll);
  }
  requestAnimationFrame(poll);
})();
"""

CARD_LATENCY_JS = """async ({rounds}) => {
  let src = null, cardModel = null;
  for (const doc of Bokeh.documents) {
    src = src || doc.get_model_by_name('cnnx-layers');
    cardModel = cardModel || doc.get_model_by_name('cnnx-part-card');
  }
  const root = Bokeh.index.find_one(cardModel).el.shadowRoot;
  const names = src.data.name;
  const shows = (name) => {
    const h2 = root.querySelector('#layer-details h2');
    return h2 != null && h2.textContent === name;
  };
  const dom = [], frame = [];
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      if (src.selected.indices[0] === i) continue;
      const done = new Promise((resolve) => {
        if (shows(names[i])) { resolve(); return; }
        const obs = new MutationObserver(() => { if (shows(names[i])) { obs.disconnect(); resolve(); } });
        obs.observe(root, {subtree: true, childList: true, characterData: true});
      });
      const t0 = performance.now();
      src.selected.indices = [i];
      if (!shows(names[i])) await done;
      const t1 = performance.now();
      await new Promise((resolve) => requestAnimationFrame(() => resolve()));
      const t2 = performance.now();
      dom.push(t1 - t0); frame.push(t2 - t0);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
  return {dom, frame};
}"""

def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


class Offsite:
    def __init__(self) -> None:
        self.urls: list[str] = []

    def watch(self, page) -> None:
        page.on("request", lambda r: None if is_local(r.url) else self.urls.append(r.url))


def click_first_layer(browser, url: str, offsite: Offsite):
    """Fresh context; navigate; click Conv2 until the card shows it. Returns (context, page,
    perf_counter at navigation)."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.add_init_script(MILESTONES_JS)
    page = ctx.new_page()
    offsite.watch(page)
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    button = page.get_by_role("button", name="Conv2", exact=True)
    heading = page.locator("#layer-details h2")
    while True:
        button.click(timeout=60_000)
        try:
            heading.filter(has_text="Conv2").wait_for(timeout=250)
            break
        except Exception:  # clicked before the page's handlers were ready: click again
            if time.perf_counter() - start > 60:
                raise
    return ctx, page, start


def first_click(browser, url: str, offsite: Offsite) -> dict[str, float]:
    """The first working layer click, in ms since navigation (and the page's milestones)."""
    ctx, page, start = click_first_layer(browser, url, offsite)
    wall = (time.perf_counter() - start) * 1000
    marks = page.evaluate("""() => ({now: performance.now(), ...window.__cnnxMarks,
        dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd})""")
    ctx.close()
    return {"click": marks["now"], "wall": wall, "buttons": marks.get("buttons"), "handlers": marks.get("handlers"),
            "dcl": marks["dcl"]}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def serve_dir(directory: Path):
    handler = functools.partial(_QuietHandler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def fmt(ms: float | None) -> str:
    return "n/a" if ms is None else f"{ms:,.0f} ms" if ms >= 100 else f"{ms:.1f} ms"


def serve_argv(checkout: Path, port: int) -> list[str]:
    """`python -m explorer serve` importing the explorer package of `checkout`."""
    code = (f"import sys, runpy; sys.path.insert(0, {str(checkout)!r}); "
            "runpy.run_module('explorer', run_name='__main__', alter_sys=True)")
    return [sys.executable, "-c", code, "serve", "--port", str(port)]


def median_line(runs: list[dict[str, float]]) -> str:
    med = {k: statistics.median(r[k] for r in runs if r[k] is not None)
           if any(r[k] is not None for r in runs) else None for k in runs[0]}
    clicks = [r["click"] for r in runs]
    return (f"card shows Conv2 at {fmt(med['click'])} (min {fmt(min(clicks))}, max {fmt(max(clicks))}); "
            f"DOMContentLoaded {fmt(med['dcl'])}, buttons painted {fmt(med['buttons'])}, "
            f"handlers ready {fmt(med['handlers'])}")


def edits_line(samples: list[dict[str, float]]) -> str:
    upd = [s["updated"] for s in samples]
    frm = [s["frame"] for s in samples]
    return (f"updated median {fmt(statistics.median(upd))} (min {fmt(min(upd))}, max {fmt(max(upd))}); "
            f"next frame median {fmt(statistics.median(frm))}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", help="git ref whose desktop server runs beside this one (e.g. main)")
    args = parser.parse_args()
    print(f"bench/ui.py — Python {platform.python_version()}, {platform.machine()}, "
          f"Chromium {CHROMIUM} (headless), runs={args.runs}")
    print(load_line("at the start"))
    offsite = Offsite()
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        html = tmpdir / "explorer.html"
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "explorer", "export", str(html)], cwd=ROOT, check=True,
                       capture_output=True)
        build_s = time.perf_counter() - t
        raw = html.read_bytes()
        print("\nStatic export (default network)")
        print(f"  size             {len(raw):,} bytes ({len(raw) / 1e6:.2f} MB); gzip -9 "
              f"{len(gzip.compress(raw, 9)):,} bytes ({len(gzip.compress(raw, 9)) / 1e6:.2f} MB); "
              f"export took {build_s:.1f} s")

        httpd = serve_dir(tmpdir)
        http_url = f"http://127.0.0.1:{httpd.server_address[1]}/{html.name}"
        servers: dict[str, str] = {}
        procs = []
        checkouts = [("desktop server", ROOT)]
        if args.baseline:
            base = tmpdir / "baseline"
            subprocess.run(["git", "worktree", "add", "--detach", str(base), args.baseline], cwd=ROOT, check=True,
                           capture_output=True)
            checkouts.append((f"server {args.baseline}", base))
        try:
            for label, checkout in checkouts:
                port = free_port()
                servers[label] = f"http://127.0.0.1:{port}/explorer"
                procs.append(start_server(serve_argv(checkout, port), servers[label], tmpdir / f"serve{port}.log",
                                          timeout=120))
            time.sleep(3)   # every server idle (its start-up work done) before the first page
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=CHROMIUM,
                    args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"])
                print(f"\nNavigation → first successful layer click (Conv2 button), median of {args.runs} "
                      f"fresh pages")
                for label, url in (("http://127.0.0.1", http_url), ("file://", html.as_uri())):
                    runs = [first_click(browser, url, offsite) for _ in range(args.runs)]
                    print(f"  {label:17s}{median_line(runs)}")
                # the servers alternate page by page (with a baseline), so both see the same load
                runs_by = {label: [] for label in servers}
                for _ in range(args.runs):
                    for label, url in servers.items():
                        runs_by[label].append(first_click(browser, url, offsite))
                for label, runs in runs_by.items():
                    print(f"  {label:17s}{median_line(runs)}")

                ctx = browser.new_context(viewport={"width": 1280, "height": 900})
                page = ctx.new_page()
                offsite.watch(page)
                page.goto(http_url)
                page.wait_for_function(READY_JS)
                result = page.evaluate(CARD_LATENCY_JS, {"rounds": 3})
                ctx.close()
                dom, frame = result["dom"], result["frame"]
                print(f"\nSelection → card update (static export, in-page, {len(dom)} selections over "
                      f"{len(LAYERS)} layers)")
                print(f"  card DOM updated  p50 {fmt(pct(dom, .5))}, p95 {fmt(pct(dom, .95))}, max {fmt(max(dom))}")
                print(f"  next frame        p50 {fmt(pct(frame, .5))}, p95 {fmt(pct(frame, .95))}, "
                      f"max {fmt(max(frame))}")

                print(f"\nDesktop server: edit → redraw (Conv1 out_channels, Enter → table total and card "
                      f"updated), {args.runs} edits each")
                for label, url in servers.items():
                    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
                    page = ctx.new_page()
                    offsite.watch(page)
                    page.goto(url)
                    page.wait_for_function(READY_JS)
                    samples = measure_edits(page, args.runs)
                    ctx.close()
                    print(f"  {label:17s}{edits_line(samples)}")
                browser.close()
        finally:
            for proc in procs:
                stop_server(proc)
            httpd.shutdown()
            if args.baseline:
                subprocess.run(["git", "worktree", "remove", "--force", str(tmpdir / "baseline")], cwd=ROOT,
                               capture_output=True)
    print(load_line("at the end"))
    print(f"\nRequests that tried to leave 127.0.0.1: {len(offsite.urls)}"
          + (f" ({offsite.urls[:5]})" if offsite.urls else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
