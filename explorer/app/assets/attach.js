// Desktop server: the page arrives with its session's document inline (explorer/app/prebuilt.py),
// so BokehJS renders it, and layer clicks work, without waiting for the websocket. This script
// then attaches that same document to its server session: no second pull, no re-render.
// It runs before BokehJS embeds the document (head, after the bundles) so that every change
// made before the session is open (Panel's Location model, document_ready, the reader's first
// clicks) is recorded and replayed to the server once it is: what the reader did is kept.
(function () {
  "use strict";
  const cfgEl = document.getElementById("cnnx-session");
  if (!cfgEl || !window.Bokeh) return;
  const cfg = JSON.parse(cfgEl.textContent);
  const html = document.documentElement;
  const Document = Bokeh.require("document").Document;
  const {ClientConnection} = Bokeh.require("client/connection");
  const {ClientSession} = Bokeh.require("client/session");
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

  function fail(reason, detail) {
    if (detail) console.error("[cnn-explorer] server session:", detail);
    html.dataset.tier = "error";
    const note = document.createElement("p");
    note.id = "cnnx-server-error";
    note.setAttribute("role", "alert");
    note.style.cssText = "margin:0;padding:8px 12px;background:#fff8c5;color:#1f2328;border-bottom:1px solid #d4a72c";
    note.textContent = reason;
    document.body.prepend(note);
  }

  function attach(doc) {
    mark("ws_open_start");
    const ws = (location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + cfg.app_path + "/ws";
    const conn = new ClientConnection(ws, cfg.token, null);
    // Bokeh pulls the session's document after the server's ACK; this page already holds it.
    conn._repull_session_doc = function (resolve, reject) {
      if (this.session != null) {                 // a reconnect: the server's copy wins, as in Bokeh
        return ClientConnection.prototype._repull_session_doc.call(this, resolve, reject);
      }
      this.session = session = new ClientSession(this, doc);
      mark("attached");
      // Roots and title came with the server's own document: only what changed since goes back,
      // in order and one message per change, as Bokeh would have sent them (the server handles
      // a document_ready and the changes before it in separate turns; one batch reorders them).
      const replay = pending.splice(0).filter((e) => e.document === doc && !(e instanceof events.RootAddedEvent ||
        e instanceof events.RootRemovedEvent || e instanceof events.TitleChangedEvent));
      for (const event of replay) session._document_changed(event);
      for (const msg of this._pending_messages) session.handle(msg);
      this._pending_messages = [];
      const note = document.getElementById("cnnx-server-error");   // a retry that got through
      if (note) note.remove();
      html.dataset.tier = "live";
      document.dispatchEvent(new CustomEvent("cnn-explorer:tier", {detail: {tier: "live"}}));
      resolve(session);
    };
    conn.connect().catch((e) => fail("The explorer's server could not be reached, so editing is unavailable " +
                                    "(layers can still be selected); reload the page to try again.", e));
  }

  function whenEmbedded() {
    const docs = Bokeh.documents;
    if (docs.length > 0 && Bokeh.index.roots.length > 0) attach(docs[0]);
    else setTimeout(whenEmbedded, 10);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", whenEmbedded, {once: true});
  else whenEmbedded();
})();
