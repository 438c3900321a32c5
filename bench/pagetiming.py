"""What the page benchmarks share: the offline Chromium launch, a quiet static server for a
built site, the edit -> redraw timing used on the desktop server and the Pyodide site, the
median that skips missing marks, and the machine's load (printed with every run).

Not a benchmark itself; bench/ui.py, bench/site_load.py, bench/cold_breakdown.py,
bench/live_build.py and bench/site_update.py import it (run them from the repository root or bench/).
"""
from __future__ import annotations

import functools
import http.server
import os
import statistics
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.analysis import analyse  # noqa: E402
from explorer.spec import default_network, from_json  # noqa: E402

CHROMIUM = "/usr/lib/chromium/chromium"
# headless Chromium that can reach nothing but 127.0.0.1 (offline means offline)
OFFLINE_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]


def med(values):
    """The median of the values that are not None (a load may miss a mark); None if none is."""
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def load_line(when: str) -> str:
    """The load average now: on a shared 2-core machine the same build measures 1.5-2x slower
    at load 5-15 than at 2-3, so every run says what it ran under."""
    one, five, fifteen = os.getloadavg()
    return f"load average {when}: {one:.2f} (1 min), {five:.2f} (5 min), {fifteen:.2f} (15 min) on {os.cpu_count()} cores"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static files without a log line per request."""

    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass        # a page navigating away resets connections: not an error here


def serve(directory: Path, handler: type[http.server.SimpleHTTPRequestHandler] = QuietHandler):
    """Serve `directory` on a free port of 127.0.0.1 from a thread; returns (server, base URL)."""
    httpd = _Server(("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


EDIT_ARM_JS = """({total, params}) => {
  // the view on screen (the Pyodide site keeps its replaced static document in the list)
  const view = (name) => {
    for (const doc of Bokeh.documents.slice().reverse()) {
      const m = doc.get_model_by_name(name), v = m && Bokeh.index.find_one(m);
      if (v) return v;
    }
    return null;
  };
  const troot = view('cnnx-part-table').el.shadowRoot;
  const croot = view('cnnx-part-card').el.shadowRoot;
  const ok = () => {
    const cell = troot.querySelector('tfoot td[data-total]');
    const card = croot.querySelector('#layer-details');
    return cell != null && cell.dataset.total === String(total) && card != null && card.textContent.includes(params);
  };
  window.__edit = new Promise((resolve) => {
    let t0 = null;
    const key = (e) => { if (e.key === 'Enter' && t0 === null) t0 = performance.now(); };
    window.addEventListener('keydown', key, true);
    const check = () => {
      if (t0 !== null && ok()) {
        const t1 = performance.now();
        window.removeEventListener('keydown', key, true);
        requestAnimationFrame(() => resolve({updated: t1 - t0, frame: performance.now() - t0}));
        return true;
      }
      return false;
    };
    const poll = () => { if (!check()) requestAnimationFrame(poll); };
    const what = {subtree: true, childList: true, characterData: true, attributes: true};
    for (const root of [troot, croot]) new MutationObserver(check).observe(root, what);
    requestAnimationFrame(poll);
  });
}"""


def measure_edits(page, runs: int) -> list[dict[str, float]]:
    """Edit → redraw in a live page (desktop server or Pyodide site), default network: select
    Conv1, type a new out_channels and press Enter, `runs` times; each sample is ms from the
    Enter keydown until the table total and the card show the new network, and the next frame."""
    page.get_by_role("button", name="Conv1", exact=True).click()
    field = page.get_by_label("out_channels", exact=True)
    field.wait_for()
    base = default_network().to_json()
    samples = []
    for channels in (16, 24, 48, 40, 56, 20, 32, 36, 44)[: max(runs, 1)]:
        data = {**base, "layers": [dict(layer) for layer in base["layers"]]}
        data["layers"][0]["out_channels"] = channels
        analysis = analyse(from_json(data))
        conv1 = analysis.records[1]
        page.evaluate(EDIT_ARM_JS, {"total": analysis.total_params, "params": f"{conv1.params:,}"})
        field.fill(str(channels))
        field.press("Enter")
        samples.append(page.evaluate("window.__edit"))
    return samples
