// Graph networks (docs/design.md §7): which blocks are open, the diagram layout for that
// state, the layer tree (WAI-ARIA tree pattern) and the nested statistics table. Runs before
// on_ready.js in the document_ready callback. The open state is a set of node names, so it
// survives a live update of the network. The layout mirrors explorer/app/graphview.py.
(function () {
  const G = {BOX_W: 0.74, BOX_H: 0.42, PAD: 0.16, HEAD: 0.34, FORK: 0.3, ARC: 0.42, SLOT: 84, LANE: 74};
  if (window.cnnxOpen == null) window.cnnxOpen = new Set();
  if (window.cnnxExtent == null) window.cnnxExtent = new WeakMap();   // figure → {width, top} of its drawing
  if (window.cnnxWired == null) window.cnnxWired = new WeakSet();     // figure view elements with listeners
  if (window.cnnxDrawn == null) window.cnnxDrawn = new WeakMap();     // source → [its data, open state] last drawn
  function openKey() { return [...window.cnnxOpen].join("\n") + "\t" + [...(window.cnnxShut || [])].join("\n"); }
  function newest(name) {
    const docs = Bokeh.documents;
    for (let d = docs.length - 1; d >= 0; d--) {
      const m = docs[d].get_model_by_name(name);
      if (m != null) return m;
    }
    return null;
  }
  function host(model) {
    const view = model == null ? null : Bokeh.index.find_one(model);
    return view == null ? null : (view.markup_el || view.el);
  }
  function isGraph(src) { return src != null && src.data.parent !== undefined; }
  function children(d) {
    const kids = new Map();
    for (let i = 0; i < d.name.length; i++) {
      const p = Number(d.parent[i]);
      if (!kids.has(p)) kids.set(p, []);
      kids.get(p).push(i);
    }
    return kids;
  }
  // Blocks are open when their name is in cnnxOpen; parallels unless their name is in cnnxShut.
  function isOpen(d, i) {
    const kind = Number(d.node[i]);
    if (kind === 1) return window.cnnxOpen.has(d.name[i]);
    return kind === 2 && !(window.cnnxShut && window.cnnxShut.has(d.name[i]));
  }
  function layout(d) {
    const n = d.name.length, kids = children(d);
    const L = {x: new Array(n).fill(NaN), y: new Array(n).fill(NaN), w: new Array(n).fill(NaN),
               h: new Array(n).fill(NaN), group: new Array(n).fill(false),
               arrows: {x0: [], y0: [], x1: [], y1: [], angle: []},
               arcs: {x0: [], y0: [], x1: [], y1: [], cx0: [], cy0: [], cx1: [], cy1: []}};
    function arrow(x0, y0, x1, y1) {
      if (dry) return;
      L.arrows.x0.push(x0); L.arrows.y0.push(y0); L.arrows.x1.push(x1); L.arrows.y1.push(y1);
      L.arrows.angle.push(Math.atan2(y1 - y0, x1 - x0) - Math.PI / 2);
    }
    const sizes = new Map();
    let dry = 0;   // > 0 while measuring a branch: nothing is drawn
    function box(i, x, mid) {
      if (!dry) { L.x[i] = x + 0.5; L.y[i] = mid; L.w[i] = G.BOX_W; L.h[i] = G.BOX_H; }
      return [1, 0.5, 0.5, x + 0.5 - G.BOX_W / 2, x + 0.5 + G.BOX_W / 2];
    }
    function measure(items) {
      if (!sizes.has(items[0])) {
        dry += 1;
        const [w, a, dn] = seq(items, 0, 0);
        dry -= 1;
        sizes.set(items[0], [w, a, dn]);
      }
      return sizes.get(items[0]);
    }
    // As graphview.layout: (width, extent above, extent below, entry x, exit x) with the main line at mid.
    function node(i, x, mid) {
      const kind = Number(d.node[i]);
      if (kind === 0 || !isOpen(d, i)) return box(i, x, mid);
      const mine = kids.get(i) || [];
      if (kind === 1) {
        const [w, up, down] = seq(mine, x + G.PAD, mid);
        const gw = w + 2 * G.PAD, top = mid + up + G.HEAD, bottom = mid - down - 0.08;
        if (!dry) {
          L.x[i] = x + gw / 2; L.y[i] = (top + bottom) / 2; L.w[i] = gw - 0.06; L.h[i] = top - bottom - 0.04;
          L.group[i] = true;
        }
        return [gw, up + G.HEAD, down + 0.08, x + 0.03, x + gw - 0.03];
      }
      const nb = Number(d.branches[i]);
      const members = [];
      for (let b = 0; b < nb; b++) members.push(mine.filter((k) => Number(d.branch[k]) === b));
      const ident = members.some((m) => m.length === 0);
      let bw = 0, up = 0.5, lane = mid, first = true;
      const starts = [], ends = [];
      for (const m of members) {
        if (!m.length) continue;
        const [w, a0] = measure(m);
        if (!first) lane -= a0;
        const [, a, dn, ex, xx] = seq(m, x + G.FORK, lane);
        if (first) { up = a; first = false; }
        starts.push([ex, lane]); ends.push([xx, lane]);
        bw = Math.max(bw, w); lane -= dn;
      }
      const down = Math.max(mid - lane, 0.5);
      const mx = x + G.FORK + bw + G.FORK;
      const [, , , mIn, mOut] = box(i, mx, mid);
      for (const [ex, cy] of starts) if (Math.abs(cy - mid) > 1e-9 || ex - x > 1e-9) arrow(x, mid, ex, cy);
      for (const [xx, cy] of ends) arrow(xx, cy, mIn, mid);
      if (ident && !dry) {
        const a = L.arcs, peak = mid + up + G.ARC;
        a.x0.push(x); a.y0.push(mid); a.x1.push(mx + 0.5); a.y1.push(mid + G.BOX_H / 2);
        a.cx0.push(x + 0.2); a.cy0.push(peak); a.cx1.push(mx + 0.5); a.cy1.push(peak);
      }
      if (ident) up += G.ARC;
      return [G.FORK + bw + G.FORK + 1, up, down, x, mOut];
    }
    function seq(items, x, mid) {
      let w = 0, up = 0.5, down = 0.5, entry = x, prev = null;
      for (const i of items) {
        const [iw, a, dn, ex, xx] = node(i, x + w, mid);
        if (prev !== null) arrow(prev, mid, ex, mid);
        else entry = ex;
        prev = xx; w += iw; up = Math.max(up, a); down = Math.max(down, dn);
      }
      return [w, up, down, entry, prev === null ? x : prev];
    }
    const [w, up, down] = seq(kids.get(-1) || [], 0, 0);
    L.width = w; L.height = up + down; L.top = up; L.bottom = -down;
    return L;
  }
  function label(d, i) {
    const name = d.name[i];
    if (Number(d.node[i]) === 2) return d.label[i] === "+" ? "⊕" : d.label[i] === "concat" ? "‖" : "⊗";
    for (let q = Number(d.parent[i]); q >= 0; q = Number(d.parent[q])) {   // as graphview.short_label
      const outer = d.name[q];
      if (name.startsWith(outer + ".") && name.length > outer.length + 1) return name.slice(outer.length + 1);
    }
    return name;
  }
  // The diagram box: the figure keeps its width whatever is open, because resizing a Bokeh
  // figure re-lays-out the whole page (~100 ms at ResNet-50, bench/graph_page.py). The drawing
  // keeps a fixed scale (SLOT px a slot, LANE px a lane) and moves inside the box through the
  // ranges: a sideways drag (PanTool), a sideways wheel or trackpad swipe, and the selection.
  // The box's height grows to the tallest drawing shown and shrinks only when `exact` (Expand
  // all, Collapse all), never below the height of one open top-level block (views._height), so
  // opening and closing a block resizes the figure only when a drawing is taller than any
  // before. The drawing is top-aligned; x_range.bounds keep it on screen.
  function frame(fig, L, exact) {
    window.cnnxExtent.set(fig, {width: L.width, top: L.top});
    let need = Math.round(G.LANE * L.height) + 30;
    if (exact && topBlock()) need = Math.max(need, Math.round(G.LANE * (1 + G.HEAD + 0.08)) + 30);   // as views._height
    if (need > fig.height || (exact && need !== fig.height)) fig.height = need;
    wire(fig);
    keepVerticalSwipes(fig);
    fit(fig);
  }
  function topBlock() {
    const d = newest("cnnx-layers").data;
    for (let i = 0; i < d.name.length; i++) if (Number(d.node[i]) === 1 && Number(d.parent[i]) === -1) return true;
    return false;
  }
  function fit(fig) {
    const ext = window.cnnxExtent.get(fig);
    if (ext == null) return;
    const view = Bokeh.index.find_one(fig), box = view == null ? null : view.frame.bbox;
    const laid = box != null && box.width > 0 && box.height > 0;
    const span = laid ? box.width / G.SLOT : ext.width + 0.2;          // not laid out yet: all of it
    const lo = -0.1, hi = Math.max(ext.width + 0.1, lo + span);
    const was = Number(fig.x_range.start);
    const start = Math.min(Math.max(Number.isFinite(was) ? was : lo, lo), hi - span);
    if (fig.x_range.start !== start || fig.x_range.end !== start + span || String(fig.x_range.bounds) !== String([lo, hi])) {
      fig.x_range.setv({bounds: [lo, hi], start, end: start + span});
    }
    const top = ext.top + 0.15, bottom = top - (laid ? box.height / G.LANE : fig.height / G.LANE);
    if (fig.y_range.start !== bottom || fig.y_range.end !== top) fig.y_range.setv({start: bottom, end: top});
  }
  // Move the drawing by `dx` data units, within the bounds; whether it moved.
  function shift(fig, dx) {
    const xr = fig.x_range, span = xr.end - xr.start, [lo, hi] = xr.bounds || [xr.start, xr.end];
    const start = Math.min(Math.max(xr.start + dx, lo), hi - span);
    if (Math.abs(start - xr.start) < 1e-9) return false;
    xr.setv({start, end: start + span});
    return true;
  }
  // Once per figure view: refit when the box changes width (window, phone rotation); sideways
  // wheel and trackpad swipes move the drawing (a vertical wheel still scrolls the page); a
  // vertical swipe on a touch screen scrolls the page, a sideways one drags the drawing.
  function wire(fig) {
    const view = Bokeh.index.find_one(fig);
    if (view == null || window.cnnxWired.has(view.el)) return;
    window.cnnxWired.add(view.el);
    if (window.ResizeObserver) new ResizeObserver(() => { if (isGraph(newest("cnnx-layers"))) fit(fig); }).observe(view.el);
    view.el.addEventListener("wheel", (event) => {
      if (!isGraph(newest("cnnx-layers"))) return;
      const dx = Math.abs(event.deltaX) > Math.abs(event.deltaY) ? event.deltaX : event.shiftKey ? event.deltaY : 0;
      const px = dx * (event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? 400 : 1);
      if (px !== 0 && shift(fig, px / G.SLOT)) event.preventDefault();
    }, {passive: false});
  }
  // Bokeh makes an active pan tool claim every touch gesture (touch-action "pinch-zoom"), and
  // says so again whenever the active tools change: leave vertical swipes to the page.
  function keepVerticalSwipes(fig) {
    const view = Bokeh.index.find_one(fig), sheet = view == null ? null : view.canvas_view && view.canvas_view.touch_action;
    try {
      if (sheet && /touch-action:\s*pinch-zoom/.test(sheet.css)) sheet.replace(".bk-events { touch-action: pan-y pinch-zoom; }");
    } catch (e) { /* another Bokeh: its own touch-action stays */ }
  }
  // Bring node i into the box: centred if it fits, else its left edge.
  function reveal(fig, d, i) {
    const x = Number(d.x[i]), w = Number(d.w[i]), xr = fig.x_range, span = xr.end - xr.start;
    if (!Number.isFinite(x) || (x - w / 2 >= xr.start && x + w / 2 <= xr.end)) return;
    shift(fig, (w + 0.2 <= span ? x - span / 2 : x - w / 2 - 0.1) - xr.start);
  }
  // Redraw the diagram and sync tree and table to the open state.
  window.cnnxGraphRender = function (exact) {
    const src = newest("cnnx-layers");
    if (!isGraph(src)) return;
    const d = src.data, L = layout(d);
    window.cnnxDrawn.set(src, [d, openKey()]);
    for (let i = 0; i < d.name.length; i++) {
      const shown = !Number.isNaN(L.x[i]);
      d.x[i] = L.x[i]; d.y[i] = L.y[i]; d.w[i] = L.w[i]; d.h[i] = L.h[i];
      d.top[i] = L.group[i] ? L.y[i] + L.h[i] / 2 - G.HEAD + 0.04 : L.y[i] + L.h[i] / 2 + 0.04;
      d.bottom[i] = L.y[i] - L.h[i] / 2 - 0.04;
      d.tname[i] = shown ? label(d, i) : "";
      d.tshape[i] = shown && !L.group[i] ? d.shape[i] : "";
      d.alpha[i] = L.group[i] ? 0.12 : 1.0;
      d.nalpha[i] = L.group[i] ? 0.06 : 0.35;
    }
    src.change.emit();
    const arrows = newest("cnnx-arrows"), arcs = newest("cnnx-arcs"), fig = newest("cnnx-part-diagram");
    if (arrows != null) arrows.data = L.arrows;
    if (arcs != null) arcs.data = L.arcs;
    if (fig != null) frame(fig, L, exact === true);
    const navEl = host(newest("cnnx-part-nav"));
    if (navEl != null) {
      for (const li of navEl.querySelectorAll('[role="treeitem"][aria-expanded]')) {
        const open = isOpen(d, Number(li.dataset.i));
        li.setAttribute("aria-expanded", open ? "true" : "false");
        const group = li.querySelector(':scope > [role="group"]');
        if (group != null) group.hidden = !open;
      }
      // The roving tab stop must stay reachable: from inside a closed block, it moves to the block.
      const stop = navEl.querySelector('[role="treeitem"][tabindex="0"]');
      const hiddenBy = stop == null ? null : stop.parentElement.closest('[role="group"][hidden]');
      if (hiddenBy != null) {
        let up = hiddenBy.closest('[role="treeitem"]');
        while (up.parentElement.closest('[role="group"][hidden]') != null) {
          up = up.parentElement.closest('[role="group"][hidden]').closest('[role="treeitem"]');
        }
        stop.tabIndex = -1;
        up.tabIndex = 0;
      }
    }
    const tableEl = host(newest("cnnx-part-table"));
    if (tableEl != null) {
      for (const tr of tableEl.querySelectorAll("tr[data-parent]")) {
        let p = Number(tr.dataset.parent), shown = true;
        while (p >= 0) { if (!isOpen(d, p)) { shown = false; break; } p = Number(d.parent[p]); }
        tr.hidden = !shown;
        const b = tr.querySelector("button[data-open]");
        if (b != null) b.setAttribute("aria-expanded", isOpen(d, Number(b.dataset.open)) ? "true" : "false");
      }
    }
  };
  window.cnnxToggle = function (i, open) {
    const src = newest("cnnx-layers");
    if (!isGraph(src)) return;
    const d = src.data, name = d.name[i], kind = Number(d.node[i]);
    const now = isOpen(d, i), want = open === undefined ? !now : open;
    if (want === now || kind === 0) return;
    if (!window.cnnxShut) window.cnnxShut = new Set();
    if (kind === 1) { if (want) window.cnnxOpen.add(name); else window.cnnxOpen.delete(name); }
    else { if (want) window.cnnxShut.delete(name); else window.cnnxShut.add(name); }
    window.cnnxGraphRender();
  };
  window.cnnxOpenAll = function (open) {
    const src = newest("cnnx-layers");
    if (!isGraph(src)) return;
    const d = src.data;
    window.cnnxShut = new Set();
    window.cnnxOpen = new Set();
    if (open) {
      for (let i = 0; i < d.name.length; i++) if (Number(d.node[i]) === 1) window.cnnxOpen.add(d.name[i]);
    }
    window.cnnxGraphRender(true);
  };
  // Called by on_select.js: open the blocks on the way to the selection; mark it in the tree.
  window.cnnxGraphSelect = function (i) {
    const src = newest("cnnx-layers");
    if (!isGraph(src)) return;
    const d = src.data;
    let changed = false;
    if (i !== null) {
      for (let p = Number(d.parent[i]); p >= 0; p = Number(d.parent[p])) {
        if (!isOpen(d, p)) {
          changed = true;
          if (Number(d.node[p]) === 1) window.cnnxOpen.add(d.name[p]); else window.cnnxShut.delete(d.name[p]);
        }
      }
    }
    // A click on a block has just drawn its new state (cnnxToggle): draw again only if needed.
    const drawn = window.cnnxDrawn.get(src);
    if (changed || drawn == null || drawn[0] !== d || drawn[1] !== openKey()) window.cnnxGraphRender();
    const fig = newest("cnnx-part-diagram");
    if (i !== null && fig != null) reveal(fig, d, i);
    const navEl = host(newest("cnnx-part-nav"));
    if (navEl == null) return;
    const items = navEl.querySelectorAll('[role="treeitem"]');
    for (const li of items) {
      const on = Number(li.dataset.i) === i;
      li.setAttribute("aria-selected", on ? "true" : "false");
      li.tabIndex = on || (i === null && li === items[0]) ? 0 : -1;
      if (on && window.cnnxFocusNav) li.focus();
    }
    return changed;
  };
  function visibleItems(tree) {
    return Array.from(tree.querySelectorAll('[role="treeitem"]')).filter((li) => li.offsetParent !== null ||
      !li.closest('[role="group"][hidden]'));
  }
  function focusItem(tree, li) {
    for (const other of tree.querySelectorAll('[role="treeitem"]')) other.tabIndex = -1;
    li.tabIndex = 0;
    li.focus();
  }
  function choose(li) {
    const i = Number(li.dataset.i);
    const src = newest("cnnx-layers");
    if (src == null) return;
    if (li.hasAttribute("aria-expanded")) window.cnnxToggle(i);
    window.cnnxFocusNav = true;
    if (src.selected.indices.length === 1 && src.selected.indices[0] === i) window.cnnxGraphSelect(i);
    else src.selected.indices = [i];
  }
  window.cnnxTreeClick = function (event, origin) {
    const li = (origin || event.target).closest('[role="treeitem"]');
    if (li == null) return;
    event.stopPropagation();
    choose(li);
  };
  window.cnnxTreeKey = function (event, origin) {
    const li = (origin || event.target).closest('[role="treeitem"]');
    if (li == null) return;
    const tree = li.closest('[role="tree"]');
    const items = visibleItems(tree), at = items.indexOf(li);
    const expandable = li.hasAttribute("aria-expanded"), open = li.getAttribute("aria-expanded") === "true";
    const i = Number(li.dataset.i);
    let target = null;
    switch (event.key) {
      case "ArrowDown": target = items[Math.min(at + 1, items.length - 1)]; break;
      case "ArrowUp": target = items[Math.max(at - 1, 0)]; break;
      case "Home": target = items[0]; break;
      case "End": target = items[items.length - 1]; break;
      case "ArrowRight":
        if (expandable && !open) window.cnnxToggle(i, true);
        else if (expandable) target = li.querySelector('[role="group"] > [role="treeitem"]');
        break;
      case "ArrowLeft":
        if (expandable && open) window.cnnxToggle(i, false);
        else target = li.parentElement.closest('[role="treeitem"]');
        break;
      case "Enter": case " ": choose(li); break;
      default: return;
    }
    event.preventDefault();
    event.stopPropagation();
    if (target != null) focusItem(tree, target);
  };
  // At load (no selection yet): draw at the box's scale. Later documents (a live page) too.
  setTimeout(() => window.cnnxGraphRender(), 0);
  // Diagram taps: the innermost visible node under the pointer; a block or merge opens or closes.
  window.cnnxDiagramTap = function (x, y, toggle) {
    const src = newest("cnnx-layers");
    if (src == null) return;
    const d = src.data;
    let best = null, area = Infinity;
    for (let i = 0; i < d.x.length; i++) {
      if (Number.isNaN(Number(d.x[i]))) continue;
      if (Math.abs(x - d.x[i]) <= d.w[i] / 2 && Math.abs(y - d.y[i]) <= d.h[i] / 2 && d.w[i] * d.h[i] < area) {
        best = i; area = d.w[i] * d.h[i];
      }
    }
    if (best === null) return;
    setTimeout(() => {   // after Bokeh's tap tool has made its own selection
      if (toggle && isGraph(src) && Number(d.node[best]) !== 0) window.cnnxToggle(best);
      src.selected.indices = [best];
    }, 0);
  };
})();
