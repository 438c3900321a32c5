"""Benchmark the offline Pyodide site (python -m pyodide_build) in headless Chromium.

    python bench/site_load.py [--site DIR | --entry SCRIPT] [--runs N] [--warm N] [--json OUT]
                         [--baseline REF | --baseline-site DIR]

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

With --baseline REF (a git commit, e.g. HEAD~3) the site of that commit is built with its
own builder and measured in the same run, alternating load by load with this one, and every
figure is printed for both builds side by side (the machine's noise hits both alike).
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pagetiming import CHROMIUM, OFFLINE_ARGS as ARGS, load_line, measure_edits, med, serve  # noqa: E402

GOALS = {"first_clickable": 1200, "cold_live": 6000, "warm_live": 4000}  # issue 12
SIZE_GOALS = (20_000_000, 10_000_000)

PHASES = [  # (label, from mark, to mark); marks are ms since navigation start
    ("first render -> worker starts", "prerendered", "worker_start"),
    ("boot Pyodide + install wheels", "worker_start", "pyodide_ready"),
    ("  (of which: last byte processed)", "worker_start", "downloaded"),
    ("  (of which: core wasm compiled)", "wasm_start", "wasm_ready"),
    ("  (of which: runtime up, Python not started)", "worker_start", "fs_init"),
    ("  (of which: loadPyodide, compiled wheels)", "worker_start", "core_ready"),
    ("import numpy", "pyodide_ready", "import_numpy"),
    ("import panel/bokeh", "import_numpy", "import_panel"),
    ("run the app script", "import_panel", "app_built"),
    # an adopted page (pyodide_build/adopt.py) fingerprints instead of serialising, and
    # computes what changed while static instead of rendering
    ("serialise doc (adopt: fingerprint)", "app_built", "doc_serialized"),
    ("render live doc (adopt: diff)", "doc_serialized", "live_rendered"),
    ("link + live", "live_rendered", "tier_live"),
]


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



def fmt(v):
    return "—" if v is None else f"{v / 1000:6.2f} s"


def build_site(entry: Path | None, dest: Path) -> float:
    """Build this checkout's site into `dest`; returns seconds."""
    from pyodide_build.build import DEFAULT_ENTRY, Options, build
    t0 = time.perf_counter()
    report = build(Options(out=dest, entry=entry or DEFAULT_ENTRY), log=lambda m: None)
    if not report.live:
        print("note: the site was built without the live tier (numpy wheel missing)")
    return time.perf_counter() - t0


def build_ref(ref: str, dest: Path) -> float:
    """Build the site of git commit `ref` with that commit's own builder (a temporary worktree)."""
    import subprocess
    work = dest.parent / "baseline-checkout"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(work), ref], check=True)
    try:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pyodide_build", "--out", str(dest)], cwd=work,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"building {ref} failed:\n{proc.stderr[-2000:]}")
        return time.perf_counter() - t0
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(work)], check=False)


def measure(sites: dict[str, Path], args) -> tuple[dict, list[str]]:
    """{label: {"cold": [...], "warm": [...]}}, loads alternating between the sites."""
    from playwright.sync_api import sync_playwright
    servers = {label: serve(site) for label, site in sites.items()}
    timeout_ms = args.timeout * 1000
    outside: list[str] = []
    results = {label: {"cold": [], "warm": []} for label in sites}

    def watch(ctx):
        ctx.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1:", "blob:",
                                                              "data:")) else outside.append(r.url))

    def url(label):
        return servers[label][1] + "index.html" + args.query

    probe = PROBE % {"layer": json.dumps(args.layer), "expect": json.dumps(args.expect)}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(args.runs):
            for label in sites:
                ctx = browser.new_context(viewport={"width": 1280, "height": 900})
                ctx.add_init_script(probe)
                watch(ctx)
                results[label]["cold"].append(measure_load(ctx.new_page(), url(label), args.layer,
                                                           args.expect, timeout_ms))
                ctx.close()
        for label in sites:          # edit -> redraw in the live page (a fresh page, no probe)
            ctx = browser.new_context(viewport={"width": 1280, "height": 900})
            watch(ctx)
            page = ctx.new_page()
            page.goto(url(label))
            page.wait_for_function("['live','error'].includes(document.documentElement.dataset.tier)",
                                   timeout=timeout_ms)
            if page.evaluate("document.documentElement.dataset.tier") == "live":
                results[label]["edits"] = measure_edits(page, max(args.runs, 3))
            ctx.close()
        browser.close()
        if args.warm:
            with tempfile.TemporaryDirectory(prefix="bench-profile-") as prof:
                pages = {}
                for label in sites:        # one persistent profile per site, both open at once
                    ctx = p.chromium.launch_persistent_context(
                        f"{prof}/{label}", executable_path=CHROMIUM, args=ARGS,
                        viewport={"width": 1280, "height": 900})
                    ctx.add_init_script(probe)
                    watch(ctx)
                    page = ctx.new_page()
                    first = measure_load(page, url(label), args.layer, args.expect, timeout_ms)
                    if first["tier"] == "live":
                        page.wait_for_function("document.documentElement.dataset.offline === 'ready'",
                                               timeout=timeout_ms)
                    pages[label] = (ctx, page)
                for _ in range(args.warm):
                    for label, (_ctx, page) in pages.items():
                        results[label]["warm"].append(measure_load(page, url(label), args.layer,
                                                                   args.expect, timeout_ms))
                for ctx, _page in pages.values():
                    ctx.close()
    for httpd, _ in servers.values():
        httpd.shutdown()
    return results, outside


def cell(rows, key):
    vals = [r.get(key) for r in rows]
    vals = [v for v in vals if v is not None]
    if not vals:
        return "—"
    return f"{fmt(med(vals)).strip()} ({min(vals) / 1000:.2f}–{max(vals) / 1000:.2f})"


def phase(rows, a, b):
    vals = [r["marks"][b] - r["marks"][a] for r in rows if a in r["marks"] and b in r["marks"]]
    return "—" if not vals else f"{med(vals):.0f} ms"


def report(results: dict, sites: dict[str, Path]) -> None:
    labels = list(results)
    cols = [(label, kind) for label in labels for kind in ("cold", "warm")]
    head = "".join(f"{label + ' ' + ('cold' if k == 'cold' else 'warm (SW)'):>24}" for label, k in cols)

    n = {label: (len(r["cold"]), len(r["warm"])) for label, r in results.items()}
    print("runs (cold, warm): " + ", ".join(f"{label} {c}+{w}" for label, (c, w) in n.items())
          + "; medians (min–max)\n")
    print(f"{'metric':30} {'goal':>8}" + head)
    for metric, key, goal in (("first clickable layer", "first_clickable", "first_clickable"),
                              ("navigation -> live Python", "live", "cold_live")):
        row = "".join(f"{cell(results[label][k], key):>24}" for label, k in cols)
        print(f"{metric:30} {fmt(GOALS[goal]):>8}" + row)
    edits = {label: [e["updated"] for e in r.get("edits", [])] for label, r in results.items()}
    print(f"{'edit -> card and table redrawn':30} {'0.30 s':>8}" + "".join(
        f"{'':>24}{(fmt(med(edits[label])).strip() + f' ({min(edits[label]) / 1000:.2f}–{max(edits[label]) / 1000:.2f})') if edits[label] else '—':>24}"
        for label in labels))
    print(f"{'':30} {'':>8}   (goals: warm live {fmt(GOALS['warm_live']).strip()}, "
          f"cold live {fmt(GOALS['cold_live']).strip()})")
    for label in labels:
        rows = results[label]["cold"] + results[label]["warm"]
        tiers = {r["tier"] for r in rows}
        if tiers != {"live"}:
            print(f"  {label}: tiers reached {sorted(tiers)}; reasons: "
                  f"{sorted({r['reason'] for r in rows if r['reason']})}")
    print(f"\n{'phase (median ms)':39}" + head)
    for label_, a, b in PHASES:
        print(f"{label_:39}" + "".join(f"{phase(results[label][k], a, b):>24}" for label, k in cols))
    comps = {label: sizes(site) for label, site in sites.items()}
    names = sorted({c for cs in comps.values() for c in cs},
                   key=lambda c: -max(cs.get(c, [0, 0])[0] for cs in comps.values()))
    print(f"\n{'component (MB on disk / gzip)':38}" + "".join(f"{label:>24}" for label in labels))
    for c in names:
        print(f"{c:38}" + "".join(f"{'%.2f / %.2f' % tuple(v / 1e6 for v in comps[label].get(c, [0, 0])):>24}"
                                  for label in labels))
    totals = {label: [sum(v[i] for v in cs.values()) for i in (0, 1)] for label, cs in comps.items()}
    print(f"{'TOTAL':38}" + "".join(f"{'%.2f / %.2f' % (t[0] / 1e6, t[1] / 1e6):>24}" for t in totals.values())
          + f"   (goal ≤ {SIZE_GOALS[0] / 1e6:.0f} / ≤ {SIZE_GOALS[1] / 1e6:.0f})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--site", type=Path, help="an already built site (else build one)")
    ap.add_argument("--entry", type=Path, default=None,
                    help="app script to build (default: explorer/app/entry.py)")
    ap.add_argument("--baseline", metavar="REF", help="also build and measure git commit REF")
    ap.add_argument("--baseline-site", type=Path, metavar="DIR", help="an already built baseline site")
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
    sys.stdout.reconfigure(line_buffering=True)

    THROTTLE["mbps"] = args.throttle
    with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
        sites: dict[str, Path] = {}
        if args.baseline_site or args.baseline:
            base = args.baseline_site
            if base is None:
                base = Path(tmp) / "baseline"
                print(f"built {args.baseline} in {build_ref(args.baseline, base):.0f} s")
            sites["before"] = base.resolve()
        site = args.site
        if site is None:
            site = Path(tmp) / "site"
            print(f"built this checkout in {build_site(args.entry, site):.0f} s")
        sites["this"] = site.resolve()
        print(load_line("before measuring"))
        results, outside = measure(sites, args)
        print(load_line("after measuring"))
        if args.baseline:
            print(f"\nbefore = git commit {args.baseline}; this = the checkout")
        report(results, sites)
        if outside:
            print(f"\nREQUESTS OUTSIDE 127.0.0.1: {sorted(set(outside))}")
        if args.json:
            args.json.write_text(json.dumps({"results": results, "outside": outside,
                                             "sizes": {k: sizes(v) for k, v in sites.items()}}, indent=1))
    return 1 if outside else 0


if __name__ == "__main__":
    sys.exit(main())
