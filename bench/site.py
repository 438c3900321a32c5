"""Benchmark the offline Pyodide site (python -m pyodide_build) in headless Chromium.

    python bench/site.py [--site DIR | --entry SCRIPT] [--runs N] [--warm N] [--json OUT]

Builds the site (unless --site is given), serves it from 127.0.0.1 and measures, side by
side with the goals:
- first clickable layer: navigation start -> a click on the layer button updated the
  details card (through the prerendered page's client-side callbacks);
- cold navigation -> live Python (<html data-tier="live">), fresh profile each run;
- warm reload -> live, with the service worker's cache (persistent profile, server still
  up; the browser's HTTP cache is not disabled: no request routing here, external hosts
  are made unresolvable with --host-resolver-rules instead);
- per-phase breakdown from the page's marks (ms since navigation start) and the size of
  every component on disk and gzipped.
Every request is recorded; any that is not for 127.0.0.1 is reported (and exits 1).
"""
from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/lib/chromium/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
GOALS = {"first_clickable": 1500, "cold_live": 8000, "warm_live": 4000}
SIZE_GOALS = (20_000_000, 10_000_000)

PHASES = [  # (label, from mark, to mark); marks are ms since navigation start
    ("first render -> worker starts", "prerendered", "worker_start"),
    ("boot Pyodide + install wheels", "worker_start", "pyodide_ready"),
    ("  (of which: last byte processed)", "worker_start", "downloaded"),
    ("import numpy", "pyodide_ready", "import_numpy"),
    ("import panel/bokeh", "import_numpy", "import_panel"),
    ("run the app script", "import_panel", "app_built"),
    ("serialise document", "app_built", "doc_serialized"),
    ("render live document", "doc_serialized", "live_rendered"),
    ("link + live", "live_rendered", "tier_live"),
]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass        # a page navigating away resets connections: not an error here


def serve(directory: Path):
    httpd = _Server(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(directory)))
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


# Injected before the page's own scripts: clicks the layer's button as soon as it exists
# (searching open shadow roots, as a user would see it) and records when the details card
# first shows the expected text: the page's own "first clickable" time, without the
# round trips of driving the browser from outside.
PROBE = """
(() => {
  const layer = %(layer)s, expect = %(expect)s;
  function* walk(root) {
    for (const el of root.querySelectorAll('*')) {
      yield el;
      if (el.shadowRoot) yield* walk(el.shadowRoot);
    }
  }
  function find() {
    let button = null, card = null;
    for (const el of walk(document)) {
      if (!button && el.tagName === 'BUTTON' && el.textContent.trim() === layer) button = el;
      if (!card && el.id === 'layer-details') card = el;
      if (button && card) break;
    }
    return [button, card];
  }
  window.__probe = {clicked: null, updated: null};
  function tick() {
    const [button, card] = find();
    if (card && card.textContent.includes(expect) && window.__probe.clicked !== null) {
      window.__probe.updated = performance.now();
      return;
    }
    if (button) { button.click(); if (window.__probe.clicked === null) window.__probe.clicked = performance.now(); }
    setTimeout(tick, 20);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', tick);
  else tick();
})();
"""


THROTTLE = {"mbps": 0.0}


def measure_load(page, url: str, layer: str, expect: str, timeout_ms: int) -> dict:
    if THROTTLE["mbps"]:
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        rate = THROTTLE["mbps"] * 1e6 / 8
        cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": 20, "downloadThroughput": rate,
            "uploadThroughput": rate})
    page.goto(url)
    page.wait_for_function("window.__probe && window.__probe.updated !== null",
                           timeout=timeout_ms, polling=100)
    clickable = page.evaluate("window.__probe.updated")
    if page.evaluate("window.cnnExplorer && window.cnnExplorer.worker === null "
                     "&& document.documentElement.dataset.tier === 'static'"):
        page.wait_for_timeout(300)    # static page (no Python): nothing more to wait for
    if page.evaluate("document.documentElement.dataset.tier") == "static" and \
            "static" in page.url:
        return {"first_clickable": round(clickable), "tier": "static", "reason": None,
                "live": None, "marks": page.evaluate("window.cnnExplorer.marks")}
    page.wait_for_function("['live','error'].includes(document.documentElement.dataset.tier)",
                           timeout=timeout_ms)
    tier = page.evaluate("document.documentElement.dataset.tier")
    marks = page.evaluate("window.cnnExplorer.marks")
    reason = page.evaluate("window.cnnExplorer.reason")
    return {"first_clickable": round(clickable), "tier": tier, "reason": reason,
            "live": marks.get("tier_live"), "marks": marks}


def sizes(site: Path) -> dict:
    from pyodide_build.build import MARKER, _component
    comps: dict[str, list[int]] = {}
    for p in sorted(site.rglob("*")):
        if not p.is_file() or p.name == MARKER:
            continue
        rel = p.relative_to(site).as_posix()
        c = comps.setdefault(_component(rel), [0, 0])
        c[0] += p.stat().st_size
        c[1] += len(gzip.compress(p.read_bytes(), 6, mtime=0))
    return comps


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v):
    return "—" if v is None else f"{v / 1000:6.2f} s"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--site", type=Path, help="an already built site (else build one)")
    ap.add_argument("--entry", type=Path, default=None,
                    help="app script to build (default: explorer/app/entry.py)")
    ap.add_argument("--runs", type=int, default=3, help="cold runs (fresh profile each)")
    ap.add_argument("--warm", type=int, default=3, help="warm reloads (service worker)")
    ap.add_argument("--layer", default="Conv2")
    ap.add_argument("--expect", default="(64, 16, 16)", help="text the card shows for --layer")
    ap.add_argument("--timeout", type=int, default=120, help="seconds per load")
    ap.add_argument("--json", type=Path, help="write all figures as JSON here")
    ap.add_argument("--query", default="", help="appended to the page URL, e.g. '?worker=late'")
    ap.add_argument("--throttle", type=float, default=0.0, metavar="MBIT",
                    help="emulate a network of MBIT Mbit/s and 20 ms latency (DevTools)")
    args = ap.parse_args(argv)

    THROTTLE["mbps"] = args.throttle
    tmp = None
    site = args.site
    build_seconds = None
    if site is None:
        from pyodide_build.build import DEFAULT_ENTRY, Options, build
        tmp = tempfile.TemporaryDirectory(prefix="bench-site-")
        site = Path(tmp.name) / "site"
        t0 = time.perf_counter()
        report = build(Options(out=site, entry=args.entry or DEFAULT_ENTRY), log=lambda m: None)
        build_seconds = time.perf_counter() - t0
        if not report.live:
            print("note: the site was built without the live tier (numpy wheel missing)")
    site = site.resolve()

    from playwright.sync_api import sync_playwright
    httpd, base = serve(site)
    url = base + "index.html" + args.query
    timeout_ms = args.timeout * 1000
    outside: list[str] = []

    def watch(ctx):
        ctx.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1:", "blob:",
                                                              "data:")) else outside.append(r.url))

    cold, warm = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        probe = PROBE % {"layer": json.dumps(args.layer), "expect": json.dumps(args.expect)}
        for _ in range(args.runs):
            ctx = browser.new_context(viewport={"width": 1280, "height": 900})
            ctx.add_init_script(probe)
            watch(ctx)
            cold.append(measure_load(ctx.new_page(), url, args.layer, args.expect, timeout_ms))
            ctx.close()
        browser.close()
        if args.warm:
            with tempfile.TemporaryDirectory(prefix="bench-profile-") as prof:
                ctx = p.chromium.launch_persistent_context(
                    prof, executable_path=CHROMIUM, args=ARGS,
                    viewport={"width": 1280, "height": 900})
                ctx.add_init_script(probe)
                watch(ctx)
                page = ctx.new_page()
                first = measure_load(page, url, args.layer, args.expect, timeout_ms)
                if first["tier"] == "live":
                    page.wait_for_function(
                        "document.documentElement.dataset.offline === 'ready'", timeout=timeout_ms)
                for _ in range(args.warm):
                    warm.append(measure_load(page, url, args.layer, args.expect, timeout_ms))
                ctx.close()
    httpd.shutdown()

    comps = sizes(site)
    total = sum(v[0] for v in comps.values())
    total_gz = sum(v[1] for v in comps.values())

    print(f"\nsite: {site}" + (f"  (built in {build_seconds:.0f} s)" if build_seconds else ""))
    print(f"runs: {len(cold)} cold, {len(warm)} warm; medians (min–max)\n")
    print(f"{'metric':34} {'goal':>9} {'cold':>22} {'warm (SW)':>22}")

    def cell(rows, key):
        vals = [r[key] if key != "live" else r["live"] for r in rows]
        vals = [v for v in vals if v is not None]
        if not vals:
            return "—"
        return f"{fmt(med(vals)).strip()} ({min(vals) / 1000:.2f}–{max(vals) / 1000:.2f})"

    print(f"{'first clickable layer':34} {fmt(GOALS['first_clickable']):>9} "
          f"{cell(cold, 'first_clickable'):>22} {cell(warm, 'first_clickable'):>22}")
    print(f"{'navigation -> live Python':34} {fmt(GOALS['cold_live']):>9} "
          f"{cell(cold, 'live'):>22} {cell(warm, 'live'):>22}   (warm goal {fmt(GOALS['warm_live']).strip()})")
    tiers = {r["tier"] for r in cold + warm}
    if tiers != {"live"}:
        print(f"  tiers reached: {sorted(tiers)}; reasons: "
              f"{sorted({r['reason'] for r in cold + warm if r['reason']})}")
    print(f"\n{'phase (median ms)':34} {'':>9} {'cold':>22} {'warm (SW)':>22}")
    def ph(rows, a, b):
        vals = [r["marks"][b] - r["marks"][a] for r in rows
                if a in r["marks"] and b in r["marks"]]
        return "—" if not vals else f"{med(vals):.0f} ms"

    for label, a, b in PHASES:
        print(f"{label:34} {'':>9} {ph(cold, a, b):>22} {ph(warm, a, b):>22}")
    print(f"\n{'component':38} {'on disk':>10} {'gzip':>10}")
    for c, (s, g) in sorted(comps.items(), key=lambda kv: -kv[1][0]):
        print(f"{c:38} {s / 1e6:7.2f} MB {g / 1e6:7.2f} MB")
    print(f"{'TOTAL':38} {total / 1e6:7.2f} MB {total_gz / 1e6:7.2f} MB   "
          f"(goal ≤ {SIZE_GOALS[0] / 1e6:.0f} MB / ≤ {SIZE_GOALS[1] / 1e6:.0f} MB gzip)")
    if outside:
        print(f"\nREQUESTS OUTSIDE 127.0.0.1: {sorted(set(outside))}")
    if args.json:
        args.json.write_text(json.dumps({"cold": cold, "warm": warm, "sizes": comps,
                                         "total": total, "total_gzip": total_gz,
                                         "outside": outside}, indent=1))
    if tmp is not None:
        tmp.cleanup()
    return 1 if outside else 0


if __name__ == "__main__":
    sys.exit(main())
