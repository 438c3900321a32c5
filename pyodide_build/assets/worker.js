/* CNN Architecture Explorer: the Python side of the page, in a classic Web Worker.
 *
 * Boots Pyodide from the site's own copy, loads the compiled wheels in one batch from the
 * site's pyodide-lock.json (sha256-verified by Pyodide, no resolver, no network beyond the
 * site) and unzips the pure-Python ones itself (sha256-verified fetches), runs the app
 * script, sends the document to the page (loader.js), then keeps the two documents in sync
 * (the protocol of Panel's pyodide-worker target).
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

/* ---------------------------------------------------------------- boot timeline */
// Where the boot's time goes, as marks (bench/site_load.py prints them): the core's wasm
// (Pyodide compiles pyodide.asm.wasm with instantiateStreaming, its only streaming call:
// `wasm_start` -> `wasm_ready`; `wasm` in the render message says "streaming", or null if
// it never streamed), `fs_init` (the runtime exists, Python not started), `core_ready`
// (loadPyodide done: Python runs, the compiled wheels are installed) and `pyodide_ready`
// (the pure-Python wheels are in site-packages too).
let wasmHow = null;
let coreCompiled;                               // resolves once the core's wasm is instantiated
const coreCompiledPromise = new Promise((resolve) => { coreCompiled = resolve; });
(function timeWasm() {
  const W = self.WebAssembly;
  if (!W || typeof W.instantiateStreaming !== "function") return;
  const streaming = W.instantiateStreaming.bind(W);
  W.instantiateStreaming = function (...args) {
    const first = !marks.wasm_start;
    if (first) { marks.wasm_start = now(); wasmHow = "streaming"; }
    const p = streaming(...args);
    if (first) p.then(() => { marks.wasm_ready = now(); coreCompiled(); }, () => coreCompiled());
    return p;
  };
})();

/* ---------------------------------------------------------------- pure-Python wheels */
// Pyodide installs a wheel by unzipping it in Python, file by file, once the interpreter
// runs (bench/install_wheels.py, in the live page of a loaded 2-core machine: 1.30 s for all
// wheels that way, 0.99 s this way, most of it overlapping the boot). The wheels with no compiled code
// (CONFIG.pure: nothing to load but files) are unzipped here instead, with the browser's own
// inflate, while the core downloads and boots, and written into site-packages as soon as
// the runtime exists: the same files Pyodide would write (a wheel's .data/purelib|platlib
// tree goes to the top, other .data parts are left out as they are not importable).
// The compiled wheels (numpy: shared libraries to load) stay with Pyodide's loadPackage.
// Without DecompressionStream (older browsers) Pyodide installs them all.
const PURE = typeof DecompressionStream === "function" ? (CONFIG.pure || []) : [];
const PACKAGES = CONFIG.packages.concat(
  typeof DecompressionStream === "function" ? [] : (CONFIG.pure || []).map((w) => w.name));

async function inflateRaw(data, size) {
  const ds = new DecompressionStream("deflate-raw");
  const writer = ds.writable.getWriter();
  writer.write(data).catch(() => {});      // errors surface on the reading side
  writer.close().catch(() => {});
  const reader = ds.readable.getReader();
  const out = new Uint8Array(size);
  let at = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (at + value.length > size) throw new Error("more bytes than the zip directory says");
    out.set(value, at);
    at += value.length;
  }
  return at === size ? out : out.subarray(0, at);
}

// [[path, bytes]] of a zip archive's files (a wheel: no zip64, stored or deflated entries).
async function unzip(file, buffer) {
  const v = new DataView(buffer), u8 = new Uint8Array(buffer);
  const bad = (why) => new Error(`pyodide/${file} is not a readable wheel (${why}; rebuild the site)`);
  let eocd = -1;
  for (let i = buffer.byteLength - 22; i >= Math.max(0, buffer.byteLength - 65557); i--) {
    if (v.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw bad("no end of central directory");
  const count = v.getUint16(eocd + 10, true);
  let p = v.getUint32(eocd + 16, true);
  const names = new TextDecoder();
  const jobs = [];
  for (let k = 0; k < count; k++) {
    if (p + 46 > buffer.byteLength || v.getUint32(p, true) !== 0x02014b50) throw bad("corrupt central directory");
    const method = v.getUint16(p + 10, true), csize = v.getUint32(p + 20, true);
    const usize = v.getUint32(p + 24, true), nlen = v.getUint16(p + 28, true);
    const local = v.getUint32(p + 42, true);
    const name = names.decode(u8.subarray(p + 46, p + 46 + nlen));
    p += 46 + nlen + v.getUint16(p + 30, true) + v.getUint16(p + 32, true);
    if (name.endsWith("/")) continue;
    if (name.startsWith("/") || name.split("/").includes("..")) throw bad(`unsafe path ${name}`);
    const start = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    const data = u8.subarray(start, start + csize);
    let out;
    if (method === 0) out = Promise.resolve(data);
    else if (method === 8) out = inflateRaw(data, usize);
    else throw bad(`compression method ${method} of ${name}`);
    jobs.push(out.then((bytes) => {
      if (bytes.length !== usize) throw bad(`${name} has ${bytes.length} bytes, expected ${usize}`);
      return [name, bytes];
    }));
  }
  return Promise.all(jobs);
}

// Where a wheel's member goes, relative to site-packages (null: not installed).
function installPath(name) {
  const m = /^[^/]+\.data\/([^/]+)\/(.*)$/.exec(name);
  if (!m) return name;
  return m[1] === "purelib" || m[1] === "platlib" ? m[2] : null;
}

async function fetchPure(wheel) {
  const url = CONFIG.pyodide + wheel.file;
  const resp = await fetch(url, { integrity: wheel.integrity });   // counted, explained
  if (!resp.ok) {
    throw new Error(`pyodide/${wheel.file} is missing from the site (HTTP ${resp.status}; ` +
                    "upload the built site again)");
  }
  const buffer = await resp.arrayBuffer();
  // inflating takes the worker's thread: not while the core's wasm is being instantiated
  // (measured: the compile then finished 0.5 s later, and Python started as much later)
  await coreCompiledPromise;
  return unzip(wheel.file, buffer);
}

function writePure(FS, root, archives) {
  const made = new Set();
  let n = 0;
  for (const files of archives) {
    for (const [name, bytes] of files) {
      const rel = installPath(name);
      if (rel === null) continue;
      const path = root + "/" + rel;
      const dir = path.slice(0, path.lastIndexOf("/"));
      if (!made.has(dir)) { FS.mkdirTree(dir); made.add(dir); }
      FS.writeFile(path, bytes);
      n += 1;
    }
  }
  return n;
}

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

/* ---------------------------------------------------------------- adopting the page's document */
// The page's prerendered document is the one this worker builds for the default network,
// model id for model id (pyodide_build/adopt.py): the build ran the same script in the same
// Pyodide. If the fingerprint of the document built here equals the build's, the page keeps
// its document ("adopt": no serialising, no second render) and sends Python what changed
// while it was static, the URL fragment's selection and hidden parts included; if not, the
// document is serialised and rendered as before. The build's document saw no URL: a page
// with a query string (other than the loader's own ?worker=/?static) is rendered, and so is
// one with a fragment unless the app applies its fragment in the page itself
// (CONFIG.adopt.links) and the fragment does not carry another network (arch=).
function adoptable(locationJson) {
  if (!CONFIG.adopt || !CONFIG.adopt.expected) return false;
  let loc;
  try { loc = JSON.parse(locationJson); } catch (e) { return false; }
  for (const key of new URLSearchParams(loc.search || "").keys()) {
    if (key !== "worker" && key !== "static") return false;
  }
  const hash = String(loc.hash || "").replace(/^#/, "");
  if (!hash) return true;
  return !!CONFIG.adopt.links && !/(^|&)arch=/.test(hash);
}

// Builds the default document; true when the page was told to adopt it.
async function buildToAdopt() {
  self.CNNX_HASH = "";                   // the page applies its fragment itself
  await pyodide.runPythonAsync(CONFIG.adopt.prepare);
  await pyodide.runPythonAsync(PY_RUN);
  marks.app_built = now();
  const fingerprint = await pyodide.runPythonAsync(CONFIG.adopt.fingerprint);
  marks.doc_serialized = now();          // the fingerprint stands in for serialising
  if (fingerprint === CONFIG.adopt.expected) {
    await pyodide.runPythonAsync(CONFIG.adopt.release);
    post({ type: "adopt", marks: marks, fetches: fetches, wasm: wasmHow });
    return true;
  }
  console.warn(`[cnn-explorer] the live document differs from the prerendered one ` +
               `(fingerprint ${fingerprint}, the build's ${CONFIG.adopt.expected}): rendering it`);
  marks.adopt_mismatch = now();
  delete marks.doc_serialized;
  setHash(pageLocation);
  if (self.CNNX_HASH) {                  // the document must carry the link's state: build again
    await pyodide.runPythonAsync(PY_PREPARE);
    await pyodide.runPythonAsync(PY_RUN);
    marks.app_built = now();
  }
  return false;
}

async function start() {
  if (typeof WebAssembly !== "object") throw new Error("this browser has no WebAssembly");
  setPhase("Loading Python\u2026", 0, 55, true);
  importScripts(CONFIG.pyodide + "pyodide.js");
  const indexURL = new URL(CONFIG.pyodide, self.location.href).href;
  marks.pyodide_js = now();
  let sitePackages = null;
  const booting = loadPyodide({
    indexURL: indexURL,
    lockFileURL: indexURL + "pyodide-lock.json",
    packageBaseUrl: indexURL,            // also Pyodide's "cdnUrl": never its default CDN
    packages: PACKAGES,                  // one batch, downloaded while the core boots
    env: CONFIG.env,
    args: CONFIG.args,                   // -OO: the site's bytecode has no docstrings
    fsInit: (FS, info) => { marks.fs_init = now(); sitePackages = info.sitePackages; coreCompiled(); },
    stdout: () => {},
    stderr: (s) => { console.warn(s); if (/^Failed to load /.test(s)) loadFailures.push(s); },
  });
  // after loadPyodide has asked for the core's files: those come first
  const pure = Promise.all(PURE.map(fetchPure));
  pure.catch(() => {});                  // reported below, after the core
  pyodide = await booting;
  marks.core_ready = now();
  let archives = null, pureError = null;
  try { archives = await pure; } catch (e) { pureError = e; }
  if (fileFailures.length) throw new Error(fileFailures[0]);
  if (pureError) throw pureError;
  if (loadFailures.length) {
    throw new Error(loadFailures.join("; ") + " (a file of the site is missing or unreadable)");
  }
  if (PURE.length) {
    writePure(pyodide.FS, sitePackages, archives);
    pyodide.runPython("import importlib; importlib.invalidate_caches()");
  }
  marks.pyodide_ready = now();           // Python runs, every package is installed
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
  if (adoptable(pageLocation)) {
    if (await buildToAdopt()) return;
  } else {
    await pyodide.runPythonAsync(PY_PREPARE);
    await pyodide.runPythonAsync(PY_RUN);
    marks.app_built = now();
  }
  stage = "render";
  setPhase("Rendering\u2026", 95, 100);
  await sendDocument();
}

// The whole document to the page, which renders it (in place of the prerendered one).
async function sendDocument() {
  const result = await pyodide.runPythonAsync(PY_RENDER);
  const [docs_json, render_items, root_ids] = result.toJs();
  result.destroy();
  marks.doc_serialized = now();
  post({ type: "render", docs_json: docs_json, render_items: render_items, root_ids: root_ids,
         marks: marks, fetches: fetches, wasm: wasmHow });
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
  } else if (msg.type === "send-document") {
    // the page could not adopt its document: render this one instead (as without adopting)
    serial(sendDocument).catch((e) => fail("render", e));
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
