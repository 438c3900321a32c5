"""Where a cold visit of the Pyodide site loses time against a warm one (Chromium trace).

    python bench/cold_breakdown.py SITE [--baseline-site DIR] [--runs N] [--trace-out DIR]
    python bench/cold_breakdown.py SITE --baseline-site DIR --clicks N   # cold first click only
    python bench/cold_breakdown.py SITE --hint-experiment [--clicks N]   # V8 compile hint A/B

For each site and run, a fresh browser context loads the page three times: cold (first
visit: nothing cached), second (first return visit: the service worker serves the files and
V8's code cache exists, but the wasm compilation cache is still empty, see below) and warm
(later return visits). Every load is traced (devtools.timeline, v8.wasm, toplevel: light
enough; per-function compile categories made a cold load 2.5x slower) and the script prints,
medians over --runs, sites alternating run by run:
- the page's marks (first click, worker start, wasm compiled, core ready, … live);
- CPU ms (thread time, not wall time: robust on a loaded machine) per kind of thread of the
  page's renderer (page main thread, Pyodide's worker, the service worker, V8's background
  pool) from navigation to first click and to live, and the wasm compilation inside it
  (lazy compiles on the worker's thread, top-tier/TurboFan compiles in the background);
- per script: download end, V8 compile ms (C: code cache used, S: streamed), evaluation ms,
  W when the service worker served it;
- the core wasm's cache events (streaming started, module cache hit, compiled, cached) and
  the requests the service worker made;
- the worker's requests (wheels, core, lock): sent, headers (the service worker's or the
  server's answer) and when the worker's own thread processed the response and its body.
--clicks N: only the cold first click (static tier, `?static`), N alternating loads per site
and their paired differences: cheap enough for the many pairs a loaded machine needs.
Nothing is asserted: it prints figures. The page's marks: pyodide_build/README.md.
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from pagetiming import CHROMIUM, OFFLINE_ARGS, med, serve  # noqa: E402

# light enough not to slow the load much (per-function compile events, i.e.
# disabled-by-default-v8.compile / v8.wasm.detailed, made a cold load 2.5x slower)
CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8.wasm",
              "blink.user_timing", "toplevel"]
LOADS = ("cold", "second", "warm")     # one context: first visit, first return, steady return

PROBE = """
(() => {
  const layer = 'Conv2', expect = '(64, 16, 16)';
  function* walk(root) {
    for (const el of root.querySelectorAll('*')) {
      yield el;
      if (el.shadowRoot) yield* walk(el.shadowRoot);
    }
  }
  window.__probe = {clicked: null, updated: null};
  function tick() {
    let button = null, card = null;
    for (const el of walk(document)) {
      if (!button && el.tagName === 'BUTTON' && el.textContent.trim() === layer) button = el;
      if (!card && el.id === 'layer-details') card = el;
    }
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


# ------------------------------------------------------------------ trace analysis

def short(url: str) -> str:
    return url.split("?")[0].split("#")[0].rsplit("/", 1)[-1] or "index.html"


def thread_names(events: list[dict]) -> dict[tuple[int, int], str]:
    names = {}
    for e in events:
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            names[(e["pid"], e["tid"])] = e["args"]["name"]
    return names


def nav_start(events: list[dict]) -> tuple[float, int] | None:
    """(trace µs, renderer pid) of the site page's last navigationStart."""
    hits = [e for e in events if e.get("name") == "navigationStart"
            and str(e.get("args", {}).get("data", {}).get("documentLoaderURL", "")).startswith("http")]
    if not hits:
        return None
    last = max(hits, key=lambda e: e["ts"])
    return last["ts"], last["pid"]


def thread_kind(name: str) -> str:
    if name == "CrRendererMain":
        return "page main thread"
    if name.startswith("DedicatedWorker"):
        return "Pyodide worker"
    if name.startswith("ServiceWorker"):
        return "service worker"
    if name.startswith("ThreadPool") or name.startswith("V8"):
        return "background pool (V8/wasm compile, GC)"
    if name.startswith("Compositor"):
        return "compositor/raster"
    return "other"


def cpu(e: dict) -> float:
    """ms of thread CPU time of a trace event (its wall time when the trace has none):
    on a loaded machine wall time counts the time the thread waited for a core."""
    return e.get("tdur", e.get("dur", 0)) / 1000


def busy_per_thread(events, names, pid, t0, until) -> dict[str, float]:
    """CPU ms of the tasks each kind of thread of the page's renderer ran, t0 → until
    (outermost tasks only: a nested run loop's tasks are inside their parent's time)."""
    per: dict[tuple[int, int], list] = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X" and e.get("pid") == pid and e.get("name") in (
                "ThreadControllerImpl::RunTask", "ThreadPool_RunTask") and t0 <= e["ts"] <= until:
            per[(e["pid"], e["tid"])].append(e)
    out: dict[str, float] = collections.defaultdict(float)
    for key, evs in per.items():
        end = -1.0
        for e in sorted(evs, key=lambda e: (e["ts"], -e.get("dur", 0))):
            if e["ts"] < end:
                continue
            end = e["ts"] + e.get("dur", 0)
            out[thread_kind(names.get(key, "?"))] += cpu(e)
    return dict(out)


def wasm_cpu(events, names, pid, t0, until) -> dict[str, float]:
    """ms of wasm compilation in the page's renderer, t0 → until: lazy (on first call, on
    the Pyodide worker's thread: on the critical path), top tier (TurboFan, background),
    synchronous compiles (Pyodide's small adapter modules)."""
    out: dict[str, float] = collections.defaultdict(float)
    what = {"wasm.CompileLazy": "lazy compile (worker thread)",
            "wasm.TopTierCompilation": "top-tier compile (background)",
            "wasm.SyncCompile": "sync compiles (worker thread)",
            "wasm.SyncInstantiate": "sync instantiate (worker thread)",
            "wasm.FinishStreaming": "finish streaming (worker thread)"}
    for e in events:
        if e.get("ph") == "X" and e.get("pid") == pid and e.get("name") in what and t0 <= e["ts"] <= until:
            out[what[e["name"]]] += cpu(e)
    return dict(out)


def scripts(events, pid, t0) -> dict[str, dict]:
    """Per script/wasm of the site: bytes, download end, compile ms (and cache use),
    evaluate ms, and the wasm cache events (ms since navigation start)."""
    per: dict[str, dict] = collections.defaultdict(lambda: collections.defaultdict(float))
    req: dict[str, str] = {}
    for e in events:
        name, args = e.get("name"), e.get("args", {})
        data = args.get("data") or {}
        if name == "ResourceSendRequest" and str(data.get("url", "")).startswith("http://127.0.0.1"):
            req[data["requestId"]] = data["url"]
            per[short(data["url"])]["requested"] = (e["ts"] - t0) / 1000
        elif name == "ResourceReceiveResponse" and data.get("requestId") in req:
            d = per[short(req[data["requestId"]])]
            d["from_sw"] = d.get("from_sw") or float(bool(data.get("fromServiceWorker")))
            d["from_cache"] = d.get("from_cache") or float(bool(data.get("fromCache")))
        elif name == "ResourceFinish" and data.get("requestId") in req:
            d = per[short(req[data["requestId"]])]
            d["bytes"] = max(d.get("bytes", 0), data.get("decodedBodyLength") or 0)
            d["downloaded"] = (e["ts"] - t0) / 1000
        elif e.get("pid") != pid:
            continue
        elif name in ("v8.compile", "v8.compileModule") and e.get("ph") == "X":
            url = data.get("url") or args.get("fileName") or ""
            if not url.startswith("http://127.0.0.1"):
                continue
            d = per[short(url)]
            d["compile"] += cpu(e)
            if data.get("consumedCacheSize"):
                d["code_cache"] = 1
            if data.get("streamed"):
                d["streamed"] = 1
        elif name == "EvaluateScript" and e.get("ph") == "X" and \
                str(data.get("url", "")).startswith("http://127.0.0.1"):
            per[short(data["url"])]["evaluate"] += cpu(e)
        elif name in ("v8.wasm.streamFromResponseCallback", "v8.wasm.compiledModule",
                      "v8.wasm.cachedModule", "v8.wasm.moduleCacheHit", "v8.wasm.moduleCacheInvalid"):
            d = per["pyodide.asm.wasm"]
            key = name.rsplit(".", 1)[-1] + "_at"
            if key not in d:
                d[key] = (e["ts"] - t0) / 1000
    return {k: dict(v) for k, v in per.items() if k.endswith((".js", ".wasm", ".html"))}


def worker_requests(events, names, t0) -> dict[str, dict]:
    """Per file the Pyodide worker requested (wheels, core, lock), ms since navigation start:
    sent, headers (when the network stack had them: the service worker's or the server's
    answer) and response/finish (when the worker's own thread processed them: late when
    that thread is busy). Tells a slow service worker from a busy worker thread."""
    per: dict[str, dict] = {}
    ids: dict[str, str] = {}
    for e in events:
        name, data = e.get("name"), (e.get("args", {}).get("data") or {})
        if name == "ResourceSendRequest" and names.get((e["pid"], e["tid"]), "").startswith(
                "DedicatedWorker") and str(data.get("url", "")).endswith(
                (".whl", ".wasm", ".zip", "-lock.json")):
            ids[data["requestId"]] = key = short(data["url"])
            per[key] = {"sent": (e["ts"] - t0) / 1000}
        elif name == "ResourceReceiveResponse" and data.get("requestId") in ids:
            d = per[ids[data["requestId"]]]
            d["response"] = (e["ts"] - t0) / 1000
            headers = (data.get("timing") or {}).get("receiveHeadersEnd")
            if headers is not None and headers >= 0:
                d["headers"] = d["sent"] + headers
        elif name == "ResourceFinish" and data.get("requestId") in ids:
            per[ids[data["requestId"]]]["finished"] = (e["ts"] - t0) / 1000
    return per


def sw_requests(events, names) -> int:
    """Requests made by the service worker thread (its install downloading the site)."""
    return sum(1 for e in events if e.get("name") == "ResourceSendRequest"
               and names.get((e["pid"], e["tid"]), "").startswith("ServiceWorker"))


def analyse(trace, marks: dict) -> dict:
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    names = thread_names(events)
    start = nav_start(events)
    if start is None:
        return {}
    t0, pid = start
    out = {"scripts": scripts(events, pid, t0), "sw_requests": sw_requests(events, names),
           "worker_requests": worker_requests(events, names, t0)}
    for span, mark in (("to_click", "first_click"), ("to_live", "tier_live")):
        if marks.get(mark):
            until = t0 + marks[mark] * 1000
            out["busy_" + span] = busy_per_thread(events, names, pid, t0, until)
            out["wasm_" + span] = wasm_cpu(events, names, pid, t0, until)
    return out


# ------------------------------------------------------------------ driving the browser

def load(browser, page, url: str, timeout_ms: int, trace: bool) -> tuple[dict | None, dict]:
    if trace:
        browser.start_tracing(categories=CATEGORIES)
    page.goto(url)
    page.wait_for_function("window.__probe && window.__probe.updated !== null",
                           timeout=timeout_ms, polling=50)
    page.wait_for_function("['live','error'].includes(document.documentElement.dataset.tier)",
                           timeout=timeout_ms)
    page.wait_for_timeout(200)
    raw = json.loads(browser.stop_tracing()) if trace else None
    marks = page.evaluate("window.cnnExplorer.marks")
    marks = dict(marks)
    marks["first_click"] = page.evaluate("window.__probe.updated")
    marks["wasm_how"] = page.evaluate("window.cnnExplorer.wasm")
    return raw, marks


def measure(sites: dict[str, Path], runs: int, timeout: int, trace_out: Path | None,
            trace: bool) -> dict:
    from playwright.sync_api import sync_playwright
    servers = {label: serve(site) for label, site in sites.items()}
    results: dict = {label: {k: [] for k in LOADS} for label in sites}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=OFFLINE_ARGS)
        for run in range(runs):
            for label in sites:          # alternate the sites, run by run
                ctx = browser.new_context(viewport={"width": 1280, "height": 900})
                ctx.add_init_script(PROBE)
                page = ctx.new_page()
                url = servers[label][1] + "index.html"
                for kind in LOADS:
                    raw, marks = load(browser, page, url, timeout * 1000, trace)
                    if trace_out and raw:
                        trace_out.mkdir(parents=True, exist_ok=True)
                        (trace_out / f"{label}-{kind}-{run}.json").write_text(json.dumps(raw))
                    results[label][kind].append({"marks": marks, **(analyse(raw, marks) if raw else {})})
                    if kind == "cold":     # the return visits are served by the service worker
                        page.wait_for_function("document.documentElement.dataset.offline === 'ready'",
                                               timeout=timeout * 1000)
                        results[label][kind][-1]["marks"]["offline_ready"] = page.evaluate(
                            "window.cnnExplorer.marks.offline_ready")
                ctx.close()
        browser.close()
    for httpd, _ in servers.values():
        httpd.shutdown()
    return results


# ------------------------------------------------------------------ report


def f_ms(v):
    return "—" if v is None else f"{v:.0f}"


MARKS = ("first_click", "prerendered", "worker_start", "pyodide_js", "wasm_start", "wasm_ready",
         "fs_init", "downloaded", "core_ready", "pyodide_ready", "import_numpy", "import_panel",
         "app_built", "doc_serialized", "live_rendered", "tier_live", "offline_ready")


def per_column(results: dict, cols: list[tuple[str, str]], table: str, key: str) -> list[list[dict]]:
    """For each (site, kind) column, every load's `table[key]` entry ({} where it is missing)."""
    return [[r.get(table, {}).get(key, {}) for r in results[label][kind]] for label, kind in cols]


def report(results: dict) -> None:
    cols = [(label, kind) for label in results for kind in LOADS]
    head = "".join(f"{label + ' ' + kind:>15}" for label, kind in cols)
    rows = lambda l, k: results[l][k]      # noqa: E731
    print("\nmarks (median ms since navigation start; cold = first visit, second = first "
          "return visit, warm = later return visits)")
    print(f"{'':36}" + head)
    for m in MARKS:
        print(f"{m:36}" + "".join(f"{f_ms(med([r['marks'].get(m) for r in rows(l, k)])):>15}"
                                  for l, k in cols))
    print(f"{'wasm compiled by':36}" + "".join(
        f"{str(rows(l, k)[0]['marks'].get('wasm_how')):>15}" for l, k in cols))
    if not any(r.get("scripts") for l, k in cols for r in rows(l, k)):
        return

    for span, what in (("to_click", "first click"), ("to_live", "live")):
        print(f"\nCPU busy, navigation -> {what} (median CPU ms of tasks per kind of thread)")
        kinds = sorted({t for l, k in cols for r in rows(l, k) for t in r.get("busy_" + span, {})})
        for t in kinds:
            print(f"  {t:34}" + "".join(
                f"{f_ms(med([r.get('busy_' + span, {}).get(t, 0) for r in rows(l, k)])):>15}"
                for l, k in cols))
        kinds = sorted({t for l, k in cols for r in rows(l, k) for t in r.get("wasm_" + span, {})})
        for t in kinds:
            print(f"  wasm: {t:28}" + "".join(
                f"{f_ms(med([r.get('wasm_' + span, {}).get(t, 0) for r in rows(l, k)])):>15}"
                for l, k in cols))

    print("\nscripts: download end ms | compile ms [C code cache, S streamed] | evaluate ms "
          "[W: served by the service worker]")
    names = sorted({s for l, k in cols for r in rows(l, k) for s in r.get("scripts", {})})
    for s in names:
        cells = []
        for ds in per_column(results, cols, "scripts", s):
            flags = ("C" if any(d.get("code_cache") for d in ds) else "") + \
                    ("S" if any(d.get("streamed") for d in ds) else "")
            w = "W" if any(d.get("from_sw") for d in ds) else ""
            cells.append(f"{f_ms(med([d.get('downloaded') for d in ds]))}{w}|"
                         f"{f_ms(med([d.get('compile') for d in ds]))}{flags}|"
                         f"{f_ms(med([d.get('evaluate') for d in ds]))}")
        b = med([r.get("scripts", {}).get(s, {}).get("bytes") for l, k in cols for r in rows(l, k)])
        print(f"  {s[:28]:28} {('%.0fk' % (b / 1000)) if b else '':>7}" + "".join(f"{c:>15}" for c in cells))

    print("\ncore wasm (pyodide.asm.wasm), ms since navigation start")
    for ev in ("streamFromResponseCallback_at", "moduleCacheHit_at", "compiledModule_at", "cachedModule_at"):
        print(f"  {ev:34}" + "".join(f"{f_ms(med([d.get(ev) for d in ds])):>15}"
                                     for ds in per_column(results, cols, "scripts", "pyodide.asm.wasm")))
    print(f"  {'requests by the service worker':34}" + "".join(
        f"{f_ms(med([r.get('sw_requests') for r in rows(l, k)])):>15}" for l, k in cols))

    print("\nthe worker's requests: sent | headers (network stack) | response | finished "
          "(the last two: when the worker's thread processed them), ms since navigation start")
    files = sorted({f for l, k in cols for r in rows(l, k) for f in r.get("worker_requests", {})})
    for f in files:
        cells = ["|".join(f_ms(med([d.get(x) for d in ds])) for x in ("sent", "headers", "response", "finished"))
                 for ds in per_column(results, cols, "worker_requests", f)]
        print(f"  {f[:28]:28}" + "".join(f"{c:>24}" for c in cells))


def first_clicks(sites: dict[str, Path], n: int, timeout: int) -> dict[str, list[float]]:
    """Cold first click only, `n` loads per site alternating (fresh context each, `?static`:
    no Python, so nothing but the page's own work is measured; cheap enough for many pairs,
    which a loaded machine needs)."""
    from playwright.sync_api import sync_playwright
    servers = {label: serve(site) for label, site in sites.items()}
    out: dict[str, list[float]] = {label: [] for label in sites}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=OFFLINE_ARGS)
        for _ in range(n):
            for label in sites:
                ctx = browser.new_context(viewport={"width": 1280, "height": 900})
                ctx.add_init_script(PROBE)
                page = ctx.new_page()
                page.goto(servers[label][1] + "index.html?static")
                page.wait_for_function("window.__probe && window.__probe.updated !== null",
                                       timeout=timeout * 1000, polling=50)
                out[label].append(page.evaluate("window.__probe.updated"))
                ctx.close()
        browser.close()
    for httpd, _ in servers.values():
        httpd.shutdown()
    return out


def report_clicks(clicks: dict[str, list[float]]) -> None:
    print("\ncold first click, static tier (ms; median, min-max)")
    for label, vals in clicks.items():
        print(f"  {label:8} {med(vals):6.0f}  ({min(vals):.0f}-{max(vals):.0f}, n={len(vals)})")
    if len(clicks) == 2:
        a, b = clicks.values()
        diffs = [y - x for x, y in zip(a, b)]
        print(f"  this - before, paired: median {med(diffs):+.0f} ms "
              f"({sum(d < 0 for d in diffs)} of {len(diffs)} pairs faster)")


COMPILE_HINT = b"//# allFunctionsCalledOnLoad\n"


def hinted_copy(site: Path, dest: Path) -> Path:
    """A copy of `site` whose BokehJS/Panel bundles start with V8's explicit compile hint
    (every function compiled eagerly on the streaming thread instead of lazily on the main
    thread), sw.js's manifest updated to match (pyodide_build/README.md, "Cold visits")."""
    import hashlib
    import re
    import shutil
    shutil.copytree(site, dest)
    sw = (dest / "sw.js").read_text()
    text = (dest / "index.html").read_text()
    for rel in re.findall(r'<script[^>]*\ssrc="(?:\./)?((?:static/js|panel)/[^"]+\.js)"', text):
        path = dest / rel
        old = path.read_bytes()
        new = COMPILE_HINT + old
        path.write_bytes(new)
        sw = sw.replace(hashlib.sha256(old).hexdigest(), hashlib.sha256(new).hexdigest())
    (dest / "sw.js").write_text(sw)
    return dest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("site", type=Path)
    ap.add_argument("--baseline-site", type=Path)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--trace-out", type=Path, help="keep the raw traces (chrome://tracing JSON) here")
    ap.add_argument("--json", type=Path, help="write the figures as JSON")
    ap.add_argument("--clicks", type=int, default=0, metavar="N",
                    help="instead: N alternating cold first clicks per site (static tier)")
    ap.add_argument("--hint-experiment", action="store_true",
                    help="compare SITE with a copy of it whose bundles carry V8's compile hint "
                         "(instead of --baseline-site)")
    ap.add_argument("--no-trace", action="store_true",
                    help="marks only (tracing itself slows the load by ~10-20%%)")
    args = ap.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    sites = {}
    tmp = None
    if args.hint_experiment:
        import tempfile
        tmp = tempfile.TemporaryDirectory(prefix="cold-hint-")
        sites["before"] = args.site.resolve()
        sites["this"] = hinted_copy(args.site, Path(tmp.name) / "site")
        print("before = SITE, this = SITE with //# allFunctionsCalledOnLoad on its bundles")
    else:
        if args.baseline_site:
            sites["before"] = args.baseline_site.resolve()
        sites["this"] = args.site.resolve()
    if args.clicks:
        report_clicks(first_clicks(sites, args.clicks, args.timeout))
        return 0
    results = measure(sites, args.runs, args.timeout, args.trace_out, not args.no_trace)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
