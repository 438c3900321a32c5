// Runs whenever source.selected.indices changes, whatever caused it (canvas tap, layer
// button, keyboard, table row, URL fragment, Python). The selection is the single source of
// truth: card, buttons, table row, live region and URL fragment all follow it here.
const sel = source.selected.indices;
if (sel.length > 1) {
  // A tap on a block drawn open hits the frame and the layer inside it: keep the innermost.
  const d = source.data;
  let best = sel[0];
  for (const k of sel) if (d.w[k] * d.h[k] < d.w[best] * d.h[best]) best = k;
  source.selected.indices = [best];
  return;
}
// A selection made on the previous network can arrive after a new network's data (the browser
// and Python each moved it): an index past the end means nothing is selected.
const i = sel.length && sel[0] >= 0 && sel[0] < source.data.name.length ? sel[0] : null;
card.text = i === null ? empty_card : (window.cnnxQuiz ? source.data.quiz[i] : source.data.card[i]);
function host(model) {
  const view = Bokeh.index.find_one(model);
  return view == null ? null : (view.markup_el || view.el);
}
const navEl = host(nav);
if (navEl != null) {
  for (const b of navEl.querySelectorAll("button[data-i]")) {
    const on = Number(b.dataset.i) === i;
    b.setAttribute("aria-pressed", on ? "true" : "false");
    b.tabIndex = on || (i === null && b.dataset.i === "0") ? 0 : -1;
    if (on && window.cnnxFocusNav) b.focus();
  }
}
if (window.cnnxGraphSelect) window.cnnxGraphSelect(i);   // graph networks: open the way, mark the tree item
window.cnnxFocusNav = false;
const tableEl = host(table);
if (tableEl != null) {
  for (const tr of tableEl.querySelectorAll("tr[data-rows]")) {
    tr.classList.toggle("cnnx-selected", i !== null && tr.dataset.rows.split(",").map(Number).includes(i));
  }
}
const liveEl = host(live);
if (liveEl != null) {
  const region = liveEl.querySelector("[aria-live]");
  if (region != null) region.textContent = i === null ? "" : source.data.say[i];
}
if (i !== null && diagram != null) {
  // On a narrow screen the diagram scrolls sideways: bring the selected block into view.
  try {
    const view = Bokeh.index.find_one(diagram);
    let node = view == null ? null : view.el;
    while (node != null && !(node instanceof Element && node.scrollWidth > node.clientWidth + 1 &&
                             getComputedStyle(node).overflowX !== "visible")) {
      node = node.parentNode instanceof ShadowRoot ? node.parentNode.host : node.parentNode;
    }
    if (node != null && node !== document.documentElement) {
      const px = view.frame.x_scale.compute(source.data.x[i]);
      const left = view.el.getBoundingClientRect().left - node.getBoundingClientRect().left + node.scrollLeft;
      node.scrollTo({left: Math.max(0, left + px - node.clientWidth / 2), behavior: "smooth"});
    }
  } catch (e) { /* layout not ready: nothing to scroll */ }
}
if (i !== null) {
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  if (params.get("layer") !== source.data.name[i]) {
    params.set("layer", source.data.name[i]);
    try { history.replaceState(null, "", "#" + params.toString()); } catch (e) { /* sandboxed */ }
  }
}
