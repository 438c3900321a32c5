/* CNN Architecture Explorer: the Python side of the page, in a classic Web Worker.
 *
 * Boots Pyodide from the site's own copy, loads every vendored wheel in one batch from the
 * site's pyodide-lock.json (sha256-verified by Pyodide, no resolver, no network beyond the
 * site), runs the app script, and sends the document to the page (loader.js), then keeps the
 * two documents in sync (the protocol of Panel's pyodide-worker target).
 * The builder replaces the CONFIG placeholder below.
 */
"use strict";
const CONFIG = /*@CONFIG@*/ null;

const T0 = performance.timeOrigin;
const now = () => T0 + performance.now();       // absolute ms, comparable across threads
const marks = { worker_start: now() };
const post = (msg) => self.postMessage(msg);

/* ---------------------------------------------------------------- progress */
const SIZES = CONFIG.sizes;                     // file name -> bytes
const TOTAL = Object.values(SIZES).reduce((a, b) => a + b, 0) || 1;
let received = 0;
let phase = { label: "Loading Python\u2026", from: 0, to: 55 };
let lastPct = -1;

function progress(force) {
  let pct;
  if (phase.bytes) {
    pct = phase.from + (phase.to - phase.from) * Math.min(1, received / TOTAL);
  } else {
    pct = phase.from;
  }
  pct = Math.floor(pct);
  if (pct !== lastPct || force) {
    lastPct = pct;
    post({ type: "progress", label: phase.label, pct: pct });
  }
}

function setPhase(label, from, to, bytes) {
  phase = { label: label, from: from, to: to, bytes: !!bytes };
  progress(true);
}

// Count the bytes of the site's own files as they arrive (wheels, stdlib, core).
const realFetch = self.fetch.bind(self);
const fetches = [];                             // [name, start, headers, end] (timeline)

function countBytes(rec) {
  return new TransformStream({
    transform(chunk, ctl) { received += chunk.byteLength; progress(); ctl.enqueue(chunk); },
    flush() {
      rec[3] = now();
      if (received >= TOTAL && !marks.downloaded) marks.downloaded = now();
    },
  });
}

// Files of the site Pyodide could not use, each as one sentence naming the file: a file
// refused by its hash (Pyodide passes the lock's sha256 as the fetch integrity) gets both
// sha256, a missing one its HTTP status; reported instead of the ImportError that follows.
const fileFailures = [];

function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function explainFailure(url, integrity) {
  const path = new URL(url, self.location.href).pathname.split("/").slice(-2).join("/");
  let expected = String(integrity).replace(/^sha256-/, "");
  try { expected = hex(Uint8Array.from(atob(expected), (c) => c.charCodeAt(0))); } catch (e) {}
  try {
    const resp = await realFetch(url, { cache: "no-store" });
    if (!resp.ok) {
      fileFailures.push(`${path} is missing from the site (HTTP ${resp.status}; upload the built site again)`);
      return;
    }
    const got = hex(await crypto.subtle.digest("SHA-256", await resp.arrayBuffer()));
    fileFailures.push(`${path} was changed after the build: its sha256 is ${got}, the site's ` +
                      `pyodide-lock.json expects ${expected} (upload the built site again)`);
  } catch (e) {
    fileFailures.push(`${path} could not be downloaded (${e && e.message ? e.message : e})`);
  }
}

self.fetch = async function (input, init) {
  const url = typeof input === "string" ? input : (input && input.url) || String(input);
  const name = url.split("#")[0].split("?")[0].split("/").pop();
  const rec = [name, now(), 0, 0];
  fetches.push(rec);
  let resp;
  try {
    resp = await realFetch(input, init);
  } catch (e) {
    if (init && init.integrity) await explainFailure(url, init.integrity);
    throw e;
  }
  rec[2] = now();
  if (!(name in SIZES) || !resp.ok || !resp.body) return resp;
  if (name.endsWith(".wasm")) {                // keep the streaming-compile response intact
    received += SIZES[name];
    progress();
    return resp;
  }
  return new Response(resp.body.pipeThrough(countBytes(rec)), {
    status: resp.status, statusText: resp.statusText, headers: resp.headers,
  });
};

/* ---------------------------------------------------------------- errors */
function oneLine(err) {
  const text = String((err && err.message) || err || "unknown error");
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  // a Python traceback ends with "ExceptionType: message" (which may run over more lines)
  const exc = lines.filter((l) => /^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b/.test(l));
  let last = exc.length ? exc[exc.length - 1] : (lines.length ? lines[lines.length - 1] : text);
  if (last.length > 400) last = last.slice(0, 397) + "\u2026";
  return last;
}

function fail(stage, err) {
  post({ type: "error", stage: stage, reason: oneLine(err), detail: String((err && err.stack) || err), marks: marks });
}

/* ---------------------------------------------------------------- boot */
let pageLocation = null;       // JSON.stringify(window.location) from the page

let locationReady;
const locationPromise = new Promise((resolve) => { locationReady = resolve; });
let pyodide = null;
let stage = "boot";
const loadFailures = [];       // Pyodide's "Failed to load <packages>" lines

// The app reads the page's URL fragment from this global (a worker's own location has none):
// `import js; js.CNNX_HASH` (see explorer/app/entry.py). pn.state.location is filled too.
function setHash(locationJson) {
  try { self.CNNX_HASH = JSON.parse(locationJson).hash || ""; } catch (e) { self.CNNX_HASH = ""; }
}

function sendPatch(patch, buffers, msg_id) {
  post({ type: "patch", patch: patch, buffers: buffers });
}

const PY_PREPARE = `
import json, os
from panel.io.pyodide import init_doc
init_doc()
_loc = json.loads(_cnn_location or "{}")
os.environ["CNN_EXPLORER_URL_HASH"] = _loc.get("hash", "")
os.environ["CNN_EXPLORER_URL_SEARCH"] = _loc.get("search", "")
from panel.io.state import state as _state
from panel.util import edit_readonly as _edit_readonly
if _state.location is not None:
    _keys = ("href", "hostname", "pathname", "protocol", "port", "search", "hash")
    with _edit_readonly(_state.location):
        _state.location.param.update(
            {k: _loc[k] for k in _keys if k in _loc and k in _state.location.param})
`;

const PY_RUN = `
_cnn_ns = {"__name__": "__main__", "__file__": _cnn_entry_name}
exec(compile(_cnn_entry_source, _cnn_entry_name, "exec"), _cnn_ns)
`;

const PY_RENDER = `
from panel.io.pyodide import write_doc
await write_doc()
`;

async function start() {
  if (typeof WebAssembly !== "object") throw new Error("this browser has no WebAssembly");
  setPhase("Loading Python\u2026", 0, 55, true);
  importScripts(CONFIG.pyodide + "pyodide.js");
  const indexURL = new URL(CONFIG.pyodide, self.location.href).href;
  marks.pyodide_js = now();
  pyodide = await loadPyodide({
    indexURL: indexURL,
    lockFileURL: indexURL + "pyodide-lock.json",
    packageBaseUrl: indexURL,            // also Pyodide's "cdnUrl": never its default CDN
    packages: CONFIG.packages,           // one batch, downloaded while the core boots
    env: CONFIG.env,
    args: CONFIG.args,                   // -OO: the site's bytecode has no docstrings
    stdout: () => {},
    stderr: (s) => { console.warn(s); if (/^Failed to load /.test(s)) loadFailures.push(s); },
  });
  marks.pyodide_ready = now();
  if (fileFailures.length) throw new Error(fileFailures[0]);
  if (loadFailures.length) {
    throw new Error(loadFailures.join("; ") + " (a file of the site is missing or unreadable)");
  }
  stage = "import";
  pyodide.globals.set("sendPatch", sendPatch);
  for (const step of CONFIG.imports) {
    setPhase(step.label, step.from, step.to);
    await pyodide.runPythonAsync(step.code);
    marks["import_" + step.name] = now();
  }
  stage = "app";
  setPhase(CONFIG.appLabel, CONFIG.appFrom, CONFIG.appTo);
  pageLocation = await locationPromise;
  pyodide.globals.set("_cnn_location", pageLocation);
  pyodide.globals.set("_cnn_entry_name", CONFIG.entry.name);
  pyodide.globals.set("_cnn_entry_source", CONFIG.entry.source);
  await pyodide.runPythonAsync(PY_PREPARE);
  await pyodide.runPythonAsync(PY_RUN);
  marks.app_built = now();
  stage = "render";
  setPhase("Rendering\u2026", 95, 100);
  const result = await pyodide.runPythonAsync(PY_RENDER);
  const [docs_json, render_items, root_ids] = result.toJs();
  result.destroy();
  marks.doc_serialized = now();
  post({ type: "render", docs_json: docs_json, render_items: render_items, root_ids: root_ids,
         marks: marks, fetches: fetches });
}

/* ---------------------------------------------------------------- messages from the page */
let queue = Promise.resolve();
function serial(fn) { queue = queue.then(fn, fn); return queue; }

self.onmessage = (event) => {
  const msg = event.data;
  if (msg.type === "start") {
    setHash(msg.location);
    locationReady(msg.location);

  } else if (msg.type === "rendered") {
    serial(async () => {
      await pyodide.runPythonAsync(`
from panel.io.state import state
from panel.io.pyodide import _link_docs_worker
_link_docs_worker(state.curdoc, sendPatch, setter='js')
`);
      marks.linked = now();
      post({ type: "linked", marks: marks });
    }).catch((e) => fail("link", e));
  } else if (msg.type === "patch") {
    serial(async () => {
      try {
        pyodide.globals.set("patch", msg.patch);
        await pyodide.runPythonAsync(`
from panel.io.state import state
from panel.io.pyodide import _convert_json_patch
state.curdoc.apply_json_patch(_convert_json_patch(patch), setter='js')
`);
      } catch (e) {
        console.error(e);
      } finally {
        post({ type: "idle" });
      }
    });
  } else if (msg.type === "exec") {
    // developer/test hook: window.cnnExplorer.python(code) on the page (same origin only)
    serial(async () => {
      try {
        const r = await pyodide.runPythonAsync(msg.code);
        post({ type: "exec-result", id: msg.id, result: r === undefined ? null : String(r) });
        if (r && r.destroy) r.destroy();
      } catch (e) {
        post({ type: "exec-result", id: msg.id, error: oneLine(e) });
      }
    });
  } else if (msg.type === "location") {
    setHash(msg.location);
    serial(async () => {
      pyodide.globals.set("location", msg.location);
      await pyodide.runPythonAsync(`
import json, os
from panel.io.state import state
from panel.util import edit_readonly
_loc = json.loads(location)
os.environ["CNN_EXPLORER_URL_HASH"] = _loc.get("hash", "")
if state.location:
    with edit_readonly(state.location):
        state.location.param.update({
            k: v for k, v in _loc.items()
            if k in ("href", "hostname", "pathname", "protocol", "port", "search", "hash")
            and k in state.location.param
        })
`);
    }).catch((e) => console.error(e));
  }
};

start().catch((e) => fail(stage, e));
