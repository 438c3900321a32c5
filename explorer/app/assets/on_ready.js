// Runs once per rendered document (Bokeh "document_ready"). Defines the small global
// helpers that the inline handlers of the layer buttons and table rows call, then applies
// the URL fragment (#layer=Conv2&hide=editor). Models are looked up by name at call time,
// so the helpers keep working when a live (Pyodide/server) document replaces the page's.
const NAME = "cnnx-layers";
if (tier) document.documentElement.dataset.tier = tier;
if (!document.querySelector('meta[name="viewport"]')) {   // Panel's server template has none
  const meta = document.createElement("meta");
  meta.name = "viewport";
  meta.content = "width=device-width, initial-scale=1";
  document.head.appendChild(meta);
}
function layers() {
  // Newest document first: when a live (Pyodide) document replaces the prerendered one,
  // the old one stays in Bokeh.documents but is no longer on screen.
  const docs = Bokeh.documents;
  for (let d = docs.length - 1; d >= 0; d--) {
    const m = docs[d].get_model_by_name(NAME);
    if (m != null) return m;
  }
  return null;
}
const MAX_FRAGMENT = 64000;   // as explorer/urlstate.py: a longer fragment is cut, never parsed whole
function hashParams() {
  return new URLSearchParams(window.location.hash.replace(/^#/, "").slice(0, MAX_FRAGMENT));
}
// The one escaping rule for text this script writes as HTML (explorer/text.py does the same in Python).
window.cnnxEsc = function (value) {
  return String(value).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                                                    "'": "&#x27;"})[c]);
};
const esc = window.cnnxEsc;
function newestModel(name) {
  const docs = Bokeh.documents;
  for (let d = docs.length - 1; d >= 0; d--) {
    const m = docs[d].get_model_by_name(name);
    if (m != null) return m;
  }
  return null;
}
// A pasted link with another network (arch=) is handed to Python, when Python is live: it
// writes the fragment into the hidden "cnnx-url-in" Div, which Python watches (page.py).
window.cnnxSendArch = function () {
  const arch = hashParams().get("arch");
  const sink = newestModel("cnnx-url"), inbox = newestModel("cnnx-url-in");
  if (!arch || sink == null || inbox == null || arch === sink.text) return;
  inbox.text = window.location.hash.slice(0, MAX_FRAGMENT + 1);
};
window.cnnxSelect = function (el, i) {
  const src = layers();
  if (src != null) src.selected.indices = [i];
};
window.cnnxKey = function (event, el) {
  const buttons = Array.from(el.parentElement.querySelectorAll("button[data-i]"));
  const at = buttons.indexOf(el);
  const moves = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1};
  let next = null;
  if (event.key in moves) next = Math.min(Math.max(at + moves[event.key], 0), buttons.length - 1);
  else if (event.key === "Home") next = 0;
  else if (event.key === "End") next = buttons.length - 1;
  if (next === null) return;
  event.preventDefault();
  window.cnnxFocusNav = true;
  window.cnnxSelect(buttons[next], Number(buttons[next].dataset.i));
};
window.cnnxCopy = function (el) {
  const text = el.parentElement.querySelector("code").textContent;
  const done = () => { el.textContent = "Copied"; setTimeout(() => { el.textContent = "Copy"; }, 1500); };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, () => {});
  else {
    const area = document.createElement("textarea");
    area.value = text; document.body.appendChild(area); area.select();
    try { document.execCommand("copy"); done(); } finally { area.remove(); }
  }
};
window.cnnxApplyHash = function () {
  const params = hashParams();
  const hide = new Set((params.get("hide") || "").split(",").map((p) => "cnnx-part-" + p.trim()));
  if (hide.has("cnnx-part-table")) hide.add("cnnx-part-tableheading");
  for (const doc of Bokeh.documents) {
    for (const m of doc.all_models) {
      // Bokeh models carry the part in their name, Panel panes in their CSS classes.
      const classes = m.css_classes || [];
      if (hide.has(m.name) || classes.some((c) => hide.has(c))) m.visible = false;
    }
  }
  const wanted = params.get("layer");
  const src = layers();
  if (wanted && src != null) {
    const i = src.data.name.indexOf(wanted);
    if (i >= 0 && !(src.selected.indices.length === 1 && src.selected.indices[0] === i)) src.selected.indices = [i];
  }
};
// Page actions without inline handlers (the site's Content-Security-Policy forbids them,
// docs/design.md §8): elements name their action in data-cnnx-click / data-cnnx-key, and
// one listener on the document dispatches. Clicks and key presses are composed events, so
// they arrive here from inside Bokeh's shadow roots; composedPath() gives the real target.
function cnnxActionTarget(event, key) {
  for (const node of event.composedPath()) {
    if (node.dataset && node.dataset[key]) return node;
    if (node === document) break;
  }
  return null;
}
const CLICK_ACTIONS = {
  "select": (el) => window.cnnxSelect(el, Number(el.dataset.i)),
  "copy": (el) => window.cnnxCopy(el),
  "step": (el) => window.cnnxStep(el, Number(el.dataset.delta)),
  // after the browser has opened or closed the <details>
  "step-open": (el) => setTimeout(() => { if (el.parentElement.open) window.cnnxStep(el, 0); }, 0),
  "check": (el) => window.cnnxCheck(el.closest("form")),
  "quiz": (el) => window.cnnxQuizToggle(el),
  "open-all": (el) => window.cnnxOpenAll(el.dataset.open === "1"),
  "toggle": (el) => window.cnnxToggle(Number(el.dataset.i)),
  "tree": (el, event) => window.cnnxTreeClick(event, event.composedPath()[0]),
};
const KEY_ACTIONS = {
  "nav": (el, event) => window.cnnxKey(event, el),
  "tree": (el, event) => window.cnnxTreeKey(event, event.composedPath()[0]),
  "check": (el, event) => {
    if (event.key !== "Enter" || !(event.composedPath()[0] instanceof HTMLInputElement)) return;
    event.preventDefault();
    window.cnnxCheck(el);
  },
};
if (!window.cnnxActionListener) {
  window.cnnxActionListener = true;
  document.addEventListener("click", (event) => {
    const el = cnnxActionTarget(event, "cnnxClick");
    const act = el && CLICK_ACTIONS[el.dataset.cnnxClick];
    if (act) act(el, event);
  });
  document.addEventListener("keydown", (event) => {
    const el = cnnxActionTarget(event, "cnnxKey");
    const act = el && KEY_ACTIONS[el.dataset.cnnxKey];
    if (act) act(el, event);
  });
}
if (!window.cnnxHashListener) {
  window.cnnxHashListener = true;
  window.addEventListener("hashchange", () => { window.cnnxApplyHash(); window.cnnxSendArch(); });
}
window.cnnxApplyHash();
function parseInts(text) {
  return (String(text).match(/\d+/g) || []).map(Number);
}
window.cnnxCheck = function (form) {
  const want = form.dataset.shape.split(",").map(Number);
  const got = parseInts(form.elements.shape.value);
  const shapeOk = got.length === want.length && got.every((v, k) => v === want[k]);
  const params = form.elements.params.value.replace(/[^\d]/g, "");
  const paramsOk = params !== "" && Number(params) === Number(form.dataset.params);
  const say = (ok, what) => (ok ? what + ": correct." : what + ": not quite.");
  form.querySelector(".cnnx-feedback").textContent =
    say(shapeOk, "Output shape") + " " + say(paramsOk, "Parameters") + " The worked answer is below.";
  form.dataset.result = (shapeOk ? "shape-ok" : "shape-wrong") + " " + (paramsOk ? "params-ok" : "params-wrong");
  form.querySelector(".cnnx-reveal").hidden = false;
  return false;
};
window.cnnxQuizToggle = function (button) {
  window.cnnxQuiz = !window.cnnxQuiz;
  button.setAttribute("aria-pressed", window.cnnxQuiz ? "true" : "false");
  const src = layers();
  if (src == null) return;
  const i = src.selected.indices.length ? src.selected.indices[0] : null;
  if (i === null) return;
  for (const doc of Bokeh.documents) {
    const card = doc.get_model_by_name("cnnx-part-card");
    if (card != null) card.text = window.cnnxQuiz ? src.data.quiz[i] : src.data.card[i];
  }
};
// Step-through of one sliding window (card of a conv/pool layer). The toy's numbers come
// from Python (the numpy engine computed the outputs); this only draws and explains them.
window.cnnxStep = function (el, delta) {
  const box = el.closest(".cnnx-step");
  const toy = JSON.parse(box.dataset.toy);
  const oh = toy.output.length, ow = toy.output[0].length, n = oh * ow;
  const pos = (((Number(box.dataset.pos || 0) + delta) % n) + n) % n;
  box.dataset.pos = String(pos);
  const r = Math.floor(pos / ow), c = pos % ow;
  const [kh, kw] = toy.kernel, [sh, sw] = toy.stride, [ph, pw] = toy.padding, [dh, dw] = toy.dilation;
  const [H, W] = toy.size;
  const taps = [];
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
    const ir = r * sh - ph + i * dh, ic = c * sw - pw + j * dw;
    const inside = ir >= 0 && ir < H && ic >= 0 && ic < W;
    taps.push({ir, ic, i, j, inside, v: inside ? toy.input[ir][ic] : 0});
  }
  // Padding text is muted but keeps WCAG AA contrast (4.9:1 on the highlight, 6.6:1 on grey).
  const S = 22, gap = 30, PH = H + 2 * ph, PW = W + 2 * pw;
  const hit = new Set(taps.map((t) => (t.ir + ph) + "," + (t.ic + pw)));
  let svg = "";
  for (let y = 0; y < PH; y++) for (let x = 0; x < PW; x++) {
    const pad = y < ph || y >= H + ph || x < pw || x >= W + pw;
    const on = hit.has(y + "," + x);
    const text = esc(pad ? (toy.kind === "max" ? "−∞" : "0") : String(toy.input[y - ph][x - pw]));
    svg += `<rect x="${x * S}" y="${y * S}" width="${S}" height="${S}" fill="${on ? "#ffd33d" : pad ? "#f6f8fa" : "#fff"}" stroke="${pad ? "#afb8c1" : "#57606a"}" ${pad ? 'stroke-dasharray="3 2"' : ""}/>` +
           `<text x="${x * S + S / 2}" y="${y * S + 15}" font-size="11" text-anchor="middle" fill="${pad ? "#525a64" : "#1f2328"}">${text}</text>`;
  }
  const ox = PW * S + gap;
  for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) {
    const on = y === r && x === c;
    const v = toy.output[y][x];
    svg += `<rect x="${ox + x * S * 1.4}" y="${y * S}" width="${S * 1.4}" height="${S}" fill="${on ? "#ffd33d" : "#ddf4ff"}" stroke="#57606a"/>` +
           `<text x="${ox + x * S * 1.4 + S * 0.7}" y="${y * S + 15}" font-size="10" text-anchor="middle">${esc(Number.isInteger(v) ? v : Number(v).toFixed(2))}</text>`;
  }
  const width = ox + ow * S * 1.4 + 2, height = Math.max(PH, oh) * S + 2;
  box.querySelector(".cnnx-step-view").innerHTML =
    `<svg width="${width}" height="${height}" viewBox="-1 -1 ${width} ${height}" role="img" aria-label="Input with padding on the left, output on the right; the highlighted cells are the current window">${svg}</svg>`;
  const value = toy.output[r][c];
  let sum;
  if (toy.kind === "conv") sum = taps.map((t) => `${t.v}·${toy.weights[t.i][t.j] < 0 ? "(" + toy.weights[t.i][t.j] + ")" : toy.weights[t.i][t.j]}`).join(" + ");
  else if (toy.kind === "max") sum = "max(" + taps.map((t) => (t.inside ? t.v : "−∞")).join(", ") + ")";
  else sum = "(" + taps.map((t) => t.v).join(" + ") + ") / " + taps.length;
  box.querySelector(".cnnx-step-pos").textContent = `output cell (${r}, ${c}) of ${oh}×${ow}`;
  box.querySelector(".cnnx-step-sum").textContent = `out[${r}, ${c}] = ${sum} = ${value}`;
  if (toy.kind === "conv") box.querySelector(".cnnx-step-kernel").textContent =
    "kernel (one channel): " + toy.weights.map((row) => "[" + row.join(", ") + "]").join(" ");
};
