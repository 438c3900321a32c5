// Desktop server: the page arrives with its session's document inline (explorer/app/prebuilt.py),
// so BokehJS renders it, and layer clicks work, without waiting for the websocket. This script
// then attaches that same document to its server session: no second pull, no re-render.
// It runs before BokehJS embeds the document (head, after the bundles) so that every change
// made before the session is open (Panel's Location model, document_ready, the reader's layer
// clicks) is recorded and replayed to the server once it is: what the reader did is kept.
//
// Two rules keep the server's replies in order (docs/design.md §5):
// - The controls that need Python (the editor, "Show feature maps", the comparison's width) are inert and dimmed until
//   the replay is done: a click on them could only be replayed in a burst with document_ready
//   and the link's network, and under such a burst Panel can write one callback's patches
//   before an earlier callback's (a feature map's data before the models that hold it: "reference
//   pNNNN isn't known" in BokehJS). Layer clicks are handled in the page and stay live.
// - The recorded changes go to the server one message at a time, each after the server has
//   answered the previous one; changes made meanwhile queue behind them.
(function () {
  "use strict";
  const cfgEl = document.getElementById("cnnx-session");
  if (!cfgEl || !window.Bokeh) return;
  const cfg = JSON.parse(cfgEl.textContent);
  const html = document.documentElement;
  const Document = Bokeh.require("document").Document;
  const {ClientConnection} = Bokeh.require("client/connection");
  const {ClientSession} = Bokeh.require("client/session");
  const {Message} = Bokeh.require("protocol/message");
  const events = Bokeh.require("document/events");
  const pending = [];
  let session = null;
  const trigger = Document.prototype._trigger_on_change;
  Document.prototype._trigger_on_change = function (event) {
    if (session === null) pending.push(event);
    return trigger.call(this, event);
  };
  const marks = (window.cnnxServerMarks = {});
  function mark(name) { marks[name] = Math.round(performance.now()); }

  /* ------------------------------------------------------------ Python controls wait */
  const GATED = ".cnnx-part-editor, .cnnx-part-features, .cnnx-part-compare";
  const PARTS = 3;
  const NOTE_AFTER_MS = 1000;     // a quick attach only dims; a slow one also says why
  const gated = new Set();
  const notes = [];
  let gateOpen = false, notesDue = false;
  let gateText = "Editing will be available in a moment, once this page has reached the explorer's server.";

  function deepAll(selector) {
    const out = [];
    (function walk(root) {
      root.querySelectorAll(selector).forEach((el) => out.push(el));
      root.querySelectorAll("*").forEach((el) => { if (el.shadowRoot) walk(el.shadowRoot); });
    })(document);
    return out;
  }
  function gate() {
    for (const el of deepAll(GATED)) {
      if (gated.has(el)) continue;
      gated.add(el);
      el.inert = true;
      el.dataset.cnnxOpacity = el.style.opacity;
      el.style.opacity = "0.55";
    }
    if (notesDue) addNotes();
  }
  function addNotes() {
    notesDue = true;
    if (gateOpen) return;
    for (const el of gated) {
      if (!el.isConnected || el.previousElementSibling?.classList.contains("cnnx-wait-note")) continue;
      const note = document.createElement("p");
      note.className = "cnnx-wait-note";
      note.style.cssText = "margin:8px 0 0;padding:6px 10px;border-left:4px solid #0969da;" +
        "background:#ddf4ff;color:#1f2328;font-size:14px";
      note.textContent = gateText;
      el.parentNode.insertBefore(note, el);
      notes.push(note);
    }
  }
  // Gate every frame until the parts exist (a requestAnimationFrame callback runs before that
  // frame is painted, so no Python control is ever shown live before the session is).
  function gateUntilOpen() {
    if (gateOpen) return;
    gate();
    if (gated.size < PARTS) requestAnimationFrame(gateUntilOpen);
  }
  function openGate() {
    gateOpen = true;
    for (const el of gated) {
      el.inert = false;
      el.style.opacity = el.dataset.cnnxOpacity || "";
      delete el.dataset.cnnxOpacity;
    }
    for (const note of notes) note.remove();
    gated.clear();
  }

  /* ------------------------------------------------------------ failure */
  function fail(reason, detail) {
    if (detail) console.error("[cnn-explorer] server session:", detail);
    html.dataset.tier = "error";
    const note = document.createElement("p");
    note.id = "cnnx-server-error";
    note.setAttribute("role", "alert");
    note.style.cssText = "margin:0;padding:8px 12px;background:#fff8c5;color:#1f2328;border-bottom:1px solid #d4a72c";
    note.textContent = reason;
    document.body.prepend(note);
    gateText = "Editing needs the explorer's server, which could not be reached.";
    for (const n of notes) n.textContent = gateText;
    addNotes();
  }

  /* ------------------------------------------------------------ replay, in order */
  function sync(event) {
    // as ClientSession._document_changed: only events that the server should hear about
    const list = event instanceof events.DocumentEventBatch ? (event.sync ? event.events : []) : [event];
    return list.filter((e) => e.sync);
  }
  async function replay(conn, doc, first) {
    const queue = first;
    // Changes made while the replay runs queue behind it (ClientSession would send them at once).
    session._document_changed = (event) => { queue.push(event); };
    while (queue.length > 0) {
      const list = sync(queue.shift());
      if (list.length === 0) continue;
      const msg = Message.create("PATCH-DOC", {}, doc.create_json_patch(list));
      try {
        await conn.send_with_reply(msg);
      } catch (e) {   // the server refused this change (its log says why): go on with the next
        console.error("[cnn-explorer] the server did not accept a change made before it connected:", e);
        if (conn.socket === null) return;  // disconnected: Bokeh reconnects and pulls the server's copy
      }
    }
    delete session._document_changed;    // ClientSession's own: each change goes out as it happens
    mark("replayed");
    live();
  }
  function live() {
    const note = document.getElementById("cnnx-server-error");   // a retry that got through
    if (note) note.remove();
    openGate();
    html.dataset.tier = "live";
    document.dispatchEvent(new CustomEvent("cnn-explorer:tier", {detail: {tier: "live"}}));
  }

  function attach(doc) {
    mark("ws_open_start");
    const ws = (location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + cfg.app_path + "/ws";
    const conn = new ClientConnection(ws, cfg.token, null);
    // Bokeh pulls the session's document after the server's ACK; this page already holds it.
    conn._repull_session_doc = function (resolve, reject) {
      if (this.session != null) {                 // a reconnect: the server's copy wins, as in Bokeh
        delete session._document_changed;         // a replay cut short: the pulled copy replaces it
        const pulled = (s) => { live(); resolve(s); };
        return ClientConnection.prototype._repull_session_doc.call(this, pulled, reject);
      }
      this.session = session = new ClientSession(this, doc);
      mark("attached");
      // Roots and title came with the server's own document: only what changed since goes back,
      // in order and one message per change, as Bokeh would have sent them.
      const recorded = pending.splice(0).filter((e) => e.document === doc && !(e instanceof events.RootAddedEvent ||
        e instanceof events.RootRemovedEvent || e instanceof events.TitleChangedEvent));
      for (const msg of this._pending_messages) session.handle(msg);
      this._pending_messages = [];
      resolve(session);
      void replay(this, doc, recorded);
    };
    conn.connect().catch((e) => fail("The explorer's server could not be reached, so editing is unavailable " +
                                    "(layers can still be selected); reload the page to try again.", e));
  }

  function whenEmbedded() {
    gate();
    const docs = Bokeh.documents;
    if (docs.length > 0 && Bokeh.index.roots.length > 0) attach(docs[0]);
    else setTimeout(whenEmbedded, 10);
  }
  requestAnimationFrame(gateUntilOpen);
  setTimeout(addNotes, NOTE_AFTER_MS);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", whenEmbedded, {once: true});
  else whenEmbedded();
})();
