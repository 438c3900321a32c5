/* CNN Architecture Explorer: progressive enhancement of the prerendered page.
 *
 * The page is clickable before any Python runs (static tier: BokehJS + CustomJS over data
 * computed at build time). This script starts Python in a Web Worker at once, shows its
 * progress, swaps the prerendered document for the live one when Python is ready
 * (<html data-tier="live">), or keeps the static page and says why (data-tier="error").
 * It also registers the offline service worker and, inside an iframe, reports the page's
 * settled height to the host (postMessage {type: "cnn-explorer:height", height} and Canvas
 * LMS's {subject: "lti.frameResize", height}). The page runs under a strict
 * Content-Security-Policy (page.py): no inline handlers, no eval of its own.
 */
(function () {
  "use strict";
  var html = document.documentElement;
  var cfgEl = document.getElementById("cnn-site-config");
  var CFG = cfgEl ? JSON.parse(cfgEl.textContent) : {};
  var T0 = performance.timeOrigin;
  var rel = function (abs) { return Math.round(abs - T0); };   // ms since navigation start
  var api = (window.cnnExplorer = {
    tier: "static",
    marks: {},          // ms since navigation start: worker_start, pyodide_ready, import_*, ...
    reason: null,
    progress: null,
    worker: null,
  });
  var embedded = window.parent !== window;
  function opaqueOrigin() { return self.origin === "null" || location.origin === "null"; }
  // ?static (or #…&static) keeps the page static: no Python is downloaded or started
  if (/(^|[?&])static(=|&|$)/.test(location.search.slice(1))) {
    CFG.live = false;
    CFG.staticRequested = true;
  }

  function mark(name, abs) { api.marks[name] = rel(abs === undefined ? T0 + performance.now() : abs); }
  function mergeMarks(m) { for (var k in m) if (!(k in api.marks)) api.marks[k] = rel(m[k]); }

  /* ------------------------------------------------------------ status line */
  var ui = {};
  function bindUI() {
    ui.box = document.getElementById("cnn-status");
    if (!ui.box) return;
    ui.text = ui.box.querySelector(".cnn-status-text");
    ui.pct = ui.box.querySelector(".cnn-status-pct");
    ui.bar = ui.box.querySelector(".cnn-status-bar");
    ui.fill = ui.box.querySelector(".cnn-status-fill");
  }
  var pending = null;
  // a link that carries its own network (#arch=…) shows the prerendered default network
  // until Python can load it: say so, rather than show the wrong network silently
  function linkedNetwork() { return /(^#|&)arch=/.test(location.hash); }
  var LINK_WAIT = " The network in this link appears once Python is ready.";
  var LINK_STATIC = " The network in this link needs Python: this is the default network.";
  function showProgress(label, pct) {
    api.progress = { label: label, pct: pct };
    if (!ui.box) { pending = api.progress; return; }
    if (api.tier !== "static") return;
    if (linkedNetwork()) label += LINK_WAIT;
    if (ui.text.textContent !== label) ui.text.textContent = label;
    ui.pct.textContent = pct + "%";
    ui.fill.style.width = pct + "%";
    ui.bar.setAttribute("aria-valuenow", String(pct));
    updateGate();
  }
  function notifyHost(extra) {
    if (!embedded) return;
    try {
      var msg = { type: "cnn-explorer:tier", tier: api.tier, reason: api.reason };
      for (var k in extra) msg[k] = extra[k];
      window.parent.postMessage(msg, "*");
    } catch (e) { /* host gone */ }
  }
  function renderTier() {
    if (!ui.box) return;
    if (api.tier === "live") {
      ui.box.hidden = true;
    } else if (api.tier === "error") {
      ui.box.hidden = false;
      ui.box.classList.add("cnn-status-error");
      ui.text.textContent = api.reason + (linkedNetwork() ? LINK_STATIC : "");
      ui.pct.textContent = "";
      ui.bar.hidden = true;
    }
  }
  function setTier(tier, reason) {
    api.tier = tier;
    api.reason = reason || null;
    html.setAttribute("data-tier", tier);
    mark("tier_" + tier);
    renderTier();
    if (tier === "live") ungate();
    updateGate();
    notifyHost({});
    document.dispatchEvent(new CustomEvent("cnn-explorer:tier", { detail: { tier: tier, reason: reason } }));
  }
  function fail(reason, detail) {
    if (api.tier === "error") return;
    if (detail) console.error("[cnn-explorer] live tier failed:", detail);
    setTier("error", CFG.errorPrefix + reason);
    registerServiceWorker();
  }

  /* ------------------------------------------------------------ editing waits for Python */
  // The prerendered editor and the "Show feature maps" button need Python: until the live
  // document replaces them they are disabled (inert, dimmed) under one line that says when
  // editing works, with the loading progress, or why it will not (docs/design.md §5).
  var GATED = ".cnnx-part-editor, .cnnx-part-features";
  var gateNotes = [];
  function gateText() {
    if (api.tier === "error") return "Editing needs Python, which could not start in this page: " + api.reason;
    if (!CFG.live) return "Editing needs Python, which this page does not start (static mode).";
    var pct = api.progress ? " (" + api.progress.pct + "%)" : "";
    return "Editing will be available in a few seconds, once Python has loaded" + pct + ".";
  }
  function gateEditing() {
    if (api.tier === "live") return;
    deepAll(GATED).forEach(function (el) {
      if (el.inert) return;
      el.inert = true;
      el.style.opacity = "0.55";
      var note = document.createElement("p");
      note.className = "cnnx-wait-note";
      note.style.cssText = "margin:8px 0 0;padding:6px 10px;border-left:4px solid #0969da;" +
        "background:#ddf4ff;color:#1f2328;font-size:14px";
      note.textContent = gateText();
      el.parentNode.insertBefore(note, el);
      gateNotes.push(note);
    });
  }
  // The adopted document keeps the prerendered editor: enable it once Python is live.
  function ungate() {
    deepAll(GATED).forEach(function (el) { el.inert = false; el.style.opacity = ""; });
    gateNotes.forEach(function (n) { if (n.isConnected) n.remove(); });
    gateNotes = [];
  }
  function updateGate() {
    var text = gateText();
    gateNotes.forEach(function (n) { if (n.isConnected && n.textContent !== text) n.textContent = text; });
  }

  /* ------------------------------------------------------------ auto height (iframe) */
  // Only settled heights are reported: a height is sent once the body has kept it for
  // SETTLE_MS, never while the prerendered document is being swapped for the live one (the
  // body is then empty for a moment), and beside the explorer's own message the same height
  // goes out as Canvas LMS's {subject: "lti.frameResize"}.
  var SETTLE_MS = 150;
  var heightHold = 0;          // > 0 while a swap is in progress
  var heightTimer = null, lastHeight = -1;
  function postHeight() {
    heightTimer = null;
    if (heightHold > 0) return;
    var h = Math.ceil(document.body.getBoundingClientRect().height);
    if (h === lastHeight || h <= 0) return;
    lastHeight = h;
    try {
      window.parent.postMessage({ type: "cnn-explorer:height", height: h }, "*");
      window.parent.postMessage({ subject: "lti.frameResize", height: h }, "*");
    } catch (e) { /* host gone */ }
  }
  function scheduleHeight() {
    if (!embedded) return;
    if (heightTimer !== null) clearTimeout(heightTimer);
    heightTimer = setTimeout(postHeight, SETTLE_MS);
  }
  function startAutoHeight() {
    if (!embedded || typeof ResizeObserver === "undefined") return;
    new ResizeObserver(scheduleHeight).observe(document.body);
    scheduleHeight();
  }

  /* ------------------------------------------------------------ service worker */
  var swStarted = false;
  function registerServiceWorker() {
    if (swStarted || !CFG.serviceWorker) return;
    swStarted = true;
    try {
      // an opaque origin (sandboxed iframe without allow-same-origin) has no service worker
      if (opaqueOrigin() || !("serviceWorker" in navigator) || location.protocol === "file:") return;
      navigator.serviceWorker.register(CFG.serviceWorker, { updateViaCache: "none" })
        .then(function () { return navigator.serviceWorker.ready; })
        .then(function () { html.setAttribute("data-offline", "ready"); mark("offline_ready"); })
        .catch(function (e) { console.warn("[cnn-explorer] no offline copy:", e); });
    } catch (e) { /* sandboxed without allow-same-origin */ }
  }

  /* ------------------------------------------------------------ prerendered document */
  function prerendered() {
    var want = document.querySelectorAll("[data-root-id]").length;
    return new Promise(function (resolve) {
      (function poll() {
        var B = window.Bokeh;
        if (B && B.index && B.index.roots && B.index.roots.length >= want && want > 0) resolve();
        else setTimeout(poll, 25);
      })();
    });
  }

  /* ------------------------------------------------------------ state kept across the hand-off */
  // What the reader did while the page was static survives the swap to the live document:
  // selections of named data sources (and the client callbacks that draw them: card, layer
  // buttons, table row, quiz card, scrolling the diagram to the selection), the scroll
  // position, which <details> are open and which toggle buttons are pressed (quiz mode).
  function namedSelections() {
    var out = {};
    try {
      var docs = (window.Bokeh && window.Bokeh.documents) || [];
      docs.forEach(function (doc) {
        doc.all_models.forEach(function (m) {
          if (m.name && m.selected && m.selected.indices && m.selected.indices.length) {
            out[m.name] = Array.from(m.selected.indices);
          }
        });
      });
    } catch (e) {}
    return out;
  }
  // Elements matching `selector` in the page and in every shadow root (Panel renders there).
  function deepAll(selector) {
    var out = [];
    (function walk(root) {
      root.querySelectorAll(selector).forEach(function (el) { out.push(el); });
      root.querySelectorAll("*").forEach(function (el) { if (el.shadowRoot) walk(el.shadowRoot); });
    })(document);
    return out;
  }
  // [key, element]: the key is the element's label plus its rank among equal labels
  function keyed(els, label) {
    var seen = {};
    return els.map(function (el) {
      var k = label(el);
      seen[k] = (seen[k] || 0) + 1;
      return [k + "\u0000" + seen[k], el];
    });
  }
  function summaryText(el) {
    var s = el.querySelector("summary");
    return s ? s.textContent.trim() : "";
  }
  function toggleText(el) { return el.textContent.trim(); }
  var TOGGLES = "button[aria-pressed]:not([data-i])";

  // Scrolling: the live document may be taller above what the reader looks at (widgets
  // that need Python replace one-line notes), so the position is kept relative to a heading
  // or <summary> on screen (the anchor), falling back to the same offset.
  var ANCHORS = "summary, h1, h2, h3, #layer-details";
  function anchorLabel(el) { return el.tagName + ":" + (el.id || el.textContent.trim().slice(0, 80)); }
  function captureAnchor() {
    var best = null;
    keyed(deepAll(ANCHORS), anchorLabel).forEach(function (p) {
      var r = p[1].getBoundingClientRect();
      if ((r.width === 0 && r.height === 0) || r.bottom < 0 || r.top > window.innerHeight) return;
      if (best === null || Math.abs(r.top) < Math.abs(best.top)) best = { key: p[0], top: r.top };
    });
    return best;
  }
  function findAnchor(state) {
    if (!state.anchor) return null;
    if (state.anchorEl && state.anchorEl.isConnected) return state.anchorEl;
    var hit = keyed(deepAll(ANCHORS), anchorLabel).filter(function (p) { return p[0] === state.anchor.key; })[0];
    state.anchorEl = hit ? hit[1] : null;
    return state.anchorEl;
  }
  function restoreScroll(state) {
    var el = findAnchor(state);
    if (el) {
      var drift = el.getBoundingClientRect().top - state.anchor.top;
      if (Math.abs(drift) >= 1) window.scrollBy(0, drift);
      return;
    }
    window.scrollTo(state.scroll[0], state.scroll[1]);
  }
  // Panes that Python fills after the swap (late updates, images, fonts) may still grow above
  // the anchor for a while, and a loaded machine makes that "while" long. Keep the anchor
  // where the reader left it, frame by frame, until the reader scrolls or `ms` have passed.
  function holdAnchor(state, ms) {
    if (!state.anchor) return;
    var until = performance.now() + ms, moved = false;
    var EVENTS = ["wheel", "touchstart", "keydown", "mousedown"];
    function stop() { moved = true; }
    EVENTS.forEach(function (e) { window.addEventListener(e, stop, { passive: true, capture: true }); });
    (function tick() {
      if (moved || performance.now() > until) {
        EVENTS.forEach(function (e) { window.removeEventListener(e, stop, { capture: true }); });
        return;
      }
      restoreScroll(state);
      requestAnimationFrame(tick);
    })();
  }

  function captureState() {
    return {
      selections: namedSelections(),
      scroll: [window.scrollX, window.scrollY],
      anchor: captureAnchor(),
      open: keyed(deepAll("details"), summaryText)
        .filter(function (p) { return p[1].open; }).map(function (p) { return p[0]; }),
      pressed: keyed(deepAll(TOGGLES), toggleText)
        .filter(function (p) { return p[1].getAttribute("aria-pressed") === "true"; })
        .map(function (p) { return p[0]; }),
    };
  }
  function restoreSelections(doc, state) {
    var done = {};
    for (var name in state.selections) {
      var m = doc.get_model_by_name(name);
      if (!m || !m.selected) continue;
      var want = state.selections[name], have = Array.from(m.selected.indices);
      if (want.join() !== have.join()) { m.selected.indices = want; done[name] = true; }
    }
    // Python may have applied the selection itself (#layer=…): the live document then
    // arrives selected, but its client callbacks never ran. Run them now.
    doc.all_models.forEach(function (m) {
      if (m.name && !done[m.name] && m.selected && m.selected.indices && m.selected.indices.length) {
        m.selected.properties.indices.change.emit();
      }
    });
  }
  function restoreDom(state) {
    var open = new Set(state.open), pressed = new Set(state.pressed);
    keyed(deepAll("details"), summaryText).forEach(function (p) {
      if (open.has(p[0]) && !p[1].open) p[1].open = true;
    });
    keyed(deepAll(TOGGLES), toggleText).forEach(function (p) {
      if (pressed.has(p[0])) p[1].setAttribute("aria-pressed", "true");
    });
  }

  /* ------------------------------------------------------------ live document */
  var worker = null, jsdoc = null, patching = 0, busy = false, queue = [];

  function sendChange(event) {
    if ((event.setter_id != null && event.setter_id === "py") || patching > 0) return;
    if (busy && event.model && event.attr) {
      queue = queue.filter(function (old) { return !(old.model === event.model && old.attr === event.attr); });
      queue.push(event);
      return;
    }
    busy = true;
    worker.postMessage({ type: "patch", patch: jsdoc.create_json_patch([event]) });
  }

  // the next frame; a hidden tab paints no frames, so never wait more than 100 ms
  function frame() {
    return new Promise(function (r) { requestAnimationFrame(function () { r(); }); setTimeout(r, 100); });
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  async function goLive(msg) {
    await prerendered();
    mark("swap_start");
    var docs_json = JSON.parse(msg.docs_json);
    var render_items = JSON.parse(msg.render_items);
    var root_ids = JSON.parse(msg.root_ids);
    var state = captureState();
    var root_els = document.querySelectorAll("[data-root-id]");
    var data_roots = [];
    root_els.forEach(function (el) { data_roots.push([el.getAttribute("data-root-id"), el.id]); });
    data_roots.sort(function (a, b) { return a[0] < b[0] ? -1 : 1; });
    var roots = {};
    for (var i = 0; i < data_roots.length && i < root_ids.length; i++) roots[root_ids[i]] = data_roots[i][1];
    render_items[0].roots = roots;
    render_items[0].root_ids = root_ids;
    var staticJson = document.querySelector('script[type="application/json"][id]:not(#cnn-site-config)');
    // keep the page as tall as it was while its document is swapped: no scroll jump, and
    // the iframe height reported to a host does not collapse
    heightHold += 1;
    var body = document.body, minHeight = body.style.minHeight;
    body.style.minHeight = Math.ceil(body.getBoundingClientRect().height) + "px";
    try {
      Bokeh.index.roots.map(function (v) { v.remove(); });
      root_els.forEach(function (el) { el.innerHTML = ""; });
      var views;
      try {
        views = (await Bokeh.embed.embed_items(docs_json, render_items))[0];
      } catch (e) {
        // put the static page back: the live document could not be shown
        Bokeh.index.roots.map(function (v) { v.remove(); });
        root_els.forEach(function (el) { el.innerHTML = ""; });
        if (staticJson) {
          await Bokeh.embed.embed_items(staticJson.textContent, CFG.staticRenderItems || []);
          gateEditing();
        }
        throw e;
      }
      jsdoc = Array.from(views.roots.values())[0].model.document;
      api.document = jsdoc;
      jsdoc.on_change(sendChange, false);
      window.scrollTo(state.scroll[0], state.scroll[1]);
      mark("live_rendered");
      worker.postMessage({ type: "rendered" });
      worker.postMessage({ type: "location", location: JSON.stringify(window.location) });
      await frame();
      restoreSelections(jsdoc, state);
      await frame();
      restoreDom(state);
      restoreScroll(state);
      await sleep(250);               // panes re-rendered by late updates get it again
      restoreDom(state);
      restoreScroll(state);
    } finally {
      body.style.minHeight = minHeight;
      heightHold -= 1;
      scheduleHeight();
    }
    await frame();
    restoreScroll(state);
    holdAnchor(state, 3000);
  }

  /* ------------------------------------------------------------ adopting the prerendered document */
  // The worker built the very document the page shows (same model ids: pyodide_build/adopt.py)
  // and found the build's fingerprint: the page keeps its views and only tells Python what
  // changed while it was static (selections, parts hidden by the URL, anything a client
  // callback or a view set), computed as the difference between the prerendered JSON and
  // the document now, both serialised by BokehJS. Anything doubtful (a model Python does not
  // know) asks the worker for its document, rendered as before.
  function unescapeHtml(s) {
    var map = { amp: "&", lt: "<", gt: ">", quot: '"', "#x27": "'", "#x60": "`" };
    return s.replace(/&(amp|lt|gt|quot|#x27|#x60);/g, function (_, e) { return map[e]; });
  }
  // id -> {name, attributes} of every model in a serialised document, references as {id}
  function flatModels(json) {
    var out = {};
    function walk(v) {
      if (Array.isArray(v)) return v.map(walk);
      if (v === null || typeof v !== "object") return v;
      if (v.type === "object" && typeof v.id === "string") {   // a model, first time seen
        var attrs = {};
        out[v.id] = { name: v.name, attributes: attrs };
        for (var k in (v.attributes || {})) attrs[k] = walk(v.attributes[k]);
        return { id: v.id };
      }
      var o = {};                                    // a reference {id}, a map, an array…
      for (var key in v) o[key] = walk(v[key]);
      return o;
    }
    walk(json.config);
    walk(json.roots);
    return out;
  }
  function staticJsonEl() {
    return document.querySelector('script[type="application/json"][id]:not(#cnn-site-config)');
  }
  // The prerendered document as BokehJS serialises it, from the page's JSON: taken while the
  // page waits for Python (about 0.1 s of deserialising a detached copy), not at the hand-off.
  var prerenderedModels = null;
  function snapshotPrerendered() {
    if (prerenderedModels !== null || !window.Bokeh || !Bokeh.index.roots.length) return prerenderedModels;
    var el = staticJsonEl();
    if (!el) return null;
    var parsed = JSON.parse(unescapeHtml(el.textContent));
    var doc = Bokeh.index.roots[0].model.document;
    var orig = doc.constructor.from_json(parsed[Object.keys(parsed)[0]]);
    var at = Bokeh.documents.indexOf(orig);
    if (at >= 0) Bokeh.documents.splice(at, 1);       // a detached copy, never on screen
    prerenderedModels = flatModels(orig.to_json(false));
    mark("adopt_snapshot");
    return prerenderedModels;
  }
  // [[events...], [selection events...]]: the patch from the prerendered document to `doc`,
  // or null
  function staticChanges(doc) {
    var before = snapshotPrerendered();
    if (before === null) return null;
    var now = flatModels(doc.to_json(false));
    var changes = [], selections = [];
    for (var id in now) {
      if (!(id in before)) return null;               // made in the page: Python has no such model
      var a = before[id].attributes, b = now[id].attributes;
      for (var attr in b) {
        if (JSON.stringify(a[attr]) === JSON.stringify(b[attr])) continue;
        var ev = { kind: "ModelChanged", model: { id: id }, attr: attr, new: b[attr] };
        (now[id].name === "Selection" ? selections : changes).push(ev);
      }
    }
    return [changes, selections];
  }

  async function adoptDocument() {
    await prerendered();
    mark("swap_start");
    var doc = Bokeh.index.roots[0].model.document;
    var patches = null;
    try { patches = staticChanges(doc); } catch (e) { console.warn("[cnn-explorer] not adopting:", e); }
    mark("adopt_diffed");
    if (patches === null) {
      mark("adopt_refused");
      worker.postMessage({ type: "send-document" });
      return;
    }
    // Python's answers to these changes (the editor's form for a layer selected while static)
    // may grow the page above what the reader looks at: keep that where it is, as goLive does
    var state = captureState();
    jsdoc = doc;
    api.document = jsdoc;
    api.adopted = true;
    jsdoc.on_change(sendChange, false);
    mark("live_rendered");
    worker.postMessage({ type: "rendered" });
    // what changed while static, selections last: Python's selection callbacks then see the
    // rest of the page's state; each group is one patch, applied in order by the worker
    patches.forEach(function (events) {
      if (!events.length) return;
      busy = true;
      worker.postMessage({ type: "patch", patch: { events: events } });
    });
    worker.postMessage({ type: "location", location: JSON.stringify(window.location) });
    holdAnchor(state, 3000);
  }

  function takeTimeline(msg) {
    mergeMarks(msg.marks);
    api.wasm = msg.wasm || null;      // how the core's wasm compiled: "streaming" | "buffer"
    api.fetches = (msg.fetches || []).map(function (f) {
      return [f[0], rel(f[1]), f[2] ? rel(f[2]) : null, f[3] ? rel(f[3]) : null];
    });
  }

  function onWorkerMessage(event) {
    var msg = event.data;
    if (msg.type === "progress") {
      showProgress(msg.label, msg.pct);
    } else if (msg.type === "render") {
      takeTimeline(msg);
      goLive(msg).catch(function (e) { fail("the live document could not be shown (" + e + ").", e); });
    } else if (msg.type === "adopt") {
      takeTimeline(msg);
      adoptDocument().catch(function (e) { fail("the live document could not be adopted (" + e + ").", e); });
    } else if (msg.type === "linked") {
      mergeMarks(msg.marks);
      setTier("live");
      registerServiceWorker();
    } else if (msg.type === "idle") {
      if (queue.length) {
        var patch = jsdoc.create_json_patch(queue);
        queue = [];
        busy = true;
        worker.postMessage({ type: "patch", patch: patch });
      } else {
        busy = false;
      }
    } else if (msg.type === "patch") {
      try { patching += 1; jsdoc.apply_json_patch(msg.patch, msg.buffers); }
      finally { patching -= 1; }
    } else if (msg.type === "exec-result") {
      var cb = calls[msg.id];
      delete calls[msg.id];
      if (cb) { if (msg.error) cb[1](new Error(msg.error)); else cb[0](msg.result); }
    } else if (msg.type === "error") {
      mergeMarks(msg.marks || {});
      fail(msg.reason, msg.detail);
    }
  }

  // Developer/test hook: run Python in the live page's interpreter, e.g.
  //   await cnnExplorer.python("from panel.io.state import state; len(state.curdoc.roots)")
  var calls = {}, callId = 0;
  api.python = function (code) {
    return new Promise(function (resolve, reject) {
      if (!worker || api.tier !== "live") { reject(new Error("Python is not live")); return; }
      var id = ++callId;
      calls[id] = [resolve, reject];
      worker.postMessage({ type: "exec", id: id, code: String(code) });
    });
  };

  function startWorker() {
    if (!CFG.live || worker) return;
    if (typeof Worker === "undefined" || typeof WebAssembly !== "object") {
      fail("this browser cannot run Python (no Web Workers or WebAssembly).");
      return;
    }
    if (location.protocol === "file:") {
      fail("open the site through a web server (file:// pages cannot start Python).");
      return;
    }
    if (opaqueOrigin()) {
      // a sandboxed iframe without allow-same-origin: the page's origin is opaque, and the
      // browser refuses a worker script from the site's origin
      fail("this page is embedded in a sandboxed frame without allow-same-origin, where the " +
           "browser does not let it start Python (the host can add allow-same-origin).");
      return;
    }
    try {
      worker = api.worker = new Worker(CFG.worker);
    } catch (e) {
      fail(location.protocol === "file:"
        ? "open the site through a web server (file:// pages cannot start Python)."
        : "the Python worker could not start (" + e.message + ").", e);
      return;
    }
    mark("worker_created");
    worker.onmessage = onWorkerMessage;
    worker.onerror = function (e) {
      e.preventDefault && e.preventDefault();
      fail("Python could not be loaded (" + (e.message || "worker error") + ").", e);
    };
    worker.postMessage({ type: "start", location: JSON.stringify(window.location) });
    window.addEventListener("hashchange", function () {
      if (worker) worker.postMessage({ type: "location", location: JSON.stringify(window.location) });
    });
  }

  // When to start Python: "late" (default), once the prerendered document is on screen;
  // "early", at once. Measured (2 cores): early made the first click 2-3x slower and live
  // no sooner; downloading early while computing late starved the page's own scripts on a
  // 40 Mbit/s link (first click 1.9 -> 3.8 s) for 0.4 s less to live. ?worker=early|late
  // overrides the build's choice (for measuring).
  var when = (location.search.match(/[?&]worker=(early|late)\b/) || [])[1] ||
    CFG.workerStart || "late";
  if (when === "early") startWorker();
  function onReady() {
    bindUI();
    if (pending) showProgress(pending.label, pending.pct);
    else if (CFG.live && ui.box) showProgress(ui.text.textContent, 0);
    renderTier();
    if (!CFG.live) {
      if (CFG.staticRequested && ui.box) {
        ui.text.textContent = "Static mode (?static in the address): live Python features are off.";
        ui.pct.textContent = "";
        ui.bar.hidden = true;
      }
      if (ui.box && linkedNetwork()) ui.text.textContent += LINK_STATIC;
      setTier("static");
      registerServiceWorker();
    }
    startAutoHeight();
    // the first paint of the prerendered document (first clickable layer)
    prerendered().then(function () {
      mark("prerendered");
      gateEditing();
      notifyHost({});
      if (when === "late") setTimeout(startWorker, 0);
      // ready for adopting the document (adoptDocument), while Python loads
      if (CFG.live) setTimeout(function () { try { snapshotPrerendered(); } catch (e) { /* at the hand-off */ } }, 200);
    });
    // never wait for ever on a first render that does not come (BokehJS failed to load…)
    if (when === "late") setTimeout(startWorker, 8000);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", onReady, { once: true });
  else onReady();
})();
