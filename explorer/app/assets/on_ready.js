// Runs once per rendered document (Bokeh "document_ready"). Defines the small global
// helpers that the inline handlers of the layer buttons and table rows call, then applies
// the URL fragment (#layer=Conv2&hide=editor). Models are looked up by name at call time,
// so the helpers keep working when a live (Pyodide/server) document replaces the page's.
const NAME = "cnnx-layers";
function layers() {
  for (const doc of Bokeh.documents) {
    const m = doc.get_model_by_name(NAME);
    if (m != null) return m;
  }
  return null;
}
function hashParams() {
  return new URLSearchParams(window.location.hash.replace(/^#/, ""));
}
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
  const hide = (params.get("hide") || "").split(",").filter(Boolean);
  for (const doc of Bokeh.documents) {
    for (const part of hide) {
      const m = doc.get_model_by_name("cnnx-part-" + part.trim());
      if (m != null) m.visible = false;
    }
  }
  const wanted = params.get("layer");
  const src = layers();
  if (wanted && src != null) {
    const i = src.data.name.indexOf(wanted);
    if (i >= 0 && !(src.selected.indices.length === 1 && src.selected.indices[0] === i)) src.selected.indices = [i];
  }
};
if (!window.cnnxHashListener) {
  window.cnnxHashListener = true;
  window.addEventListener("hashchange", () => window.cnnxApplyHash());
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
