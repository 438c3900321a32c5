"""Colours, legend labels, icons and CSS shared by the views (no Panel imports)."""
from __future__ import annotations

from html import escape

def heading_html(title: str, hint: str = "") -> str:
    """A section's heading, one style for every section of the page, and its hint line.
    `title` and `hint` are trusted HTML written in this package, never user text."""
    line = f"<p class='cnnx-hint'>{hint}</p>" if hint else ""
    return f"<h2 style='font-size:18px;margin:8px 0 0'>{title}</h2>{line}"


FEATURES_TITLE = "Feature maps"
FEATURES_HINT = ("A real forward pass (numpy) of the sample image through this network with untrained, "
                 "seeded weights.")


# Colour-blind-safe palette (Okabe–Ito based), one colour per diagram category.
COLOURS = {
    "input": "#8c8c8c",
    "conv": "#0072b2",
    "batchnorm": "#e69f00",
    "activation": "#009e73",
    "pooling": "#d55e00",
    "linear": "#cc79a7",
    "reshape": "#b8b8b8",
    "regularisation": "#f0e442",
    "block": "#6e7781",   # graph networks (docs/design.md): a block's row and a merge's row
    "merge": "#56b4e9",
}

LEGEND = {
    "input": "Input Image",
    "conv": "Convolution",
    "batchnorm": "BatchNorm",
    "activation": "ReLU",
    "pooling": "Pooling",
    "linear": "Fully Connected",
    "regularisation": "Dropout",
    "block": "Block",
    "merge": "Merge",
}

# Small inline SVG glyphs for the card title (no icon fonts, no network).
ICONS = {
    "input": '<rect x="3" y="5" width="18" height="14" rx="2"/><circle cx="9" cy="10" r="2"/>'
             '<path d="M21 17l-5-5-8 7"/>',
    "conv": '<rect x="3" y="3" width="12" height="12"/><rect x="9" y="9" width="12" height="12"/>',
    "batchnorm": '<path d="M3 18c3-12 15-12 18 0"/><path d="M12 4v16"/>',
    "activation": '<path d="M3 16h9l9-10"/>',
    "pooling": '<rect x="3" y="3" width="18" height="18"/><path d="M12 3v18M3 12h18"/>',
    "linear": '<circle cx="6" cy="6" r="2"/><circle cx="6" cy="18" r="2"/><circle cx="18" cy="12" r="2"/>'
              '<path d="M8 6l8 5M8 18l8-5"/>',
    "reshape": '<path d="M4 6h16M4 12h16M4 18h16"/>',
    "regularisation": '<circle cx="7" cy="7" r="2"/><circle cx="17" cy="17" r="2"/><path d="M4 20L20 4"/>',
    "block": '<rect x="3" y="3" width="18" height="18" rx="3"/><path d="M7 8h10M7 12h10M7 16h10"/>',
    "merge": '<path d="M4 6c6 0 6 6 12 6M4 18c6 0 6-6 12-6M16 12h5"/>',
}


def scroll_box(label: str, extra_class: str = "") -> str:
    """Opening tag of a box that scrolls sideways on a narrow screen. Focusable and named, so
    keyboard users can scroll it too (WCAG 2.1.1; axe rule scrollable-region-focusable)."""
    classes = f"{extra_class} cnnx-scroll".strip()
    return f'<div class="{classes}" tabindex="0" role="region" aria-label="{escape(label)}">'


def icon(category: str) -> str:
    return (f'<svg class="cnnx-icon" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" '
            f'fill="none" stroke="{COLOURS[category]}" stroke-width="2">{ICONS[category]}</svg>')


CSS = """
:host { --cnnx-fg: #1f2328; --cnnx-muted: #57606a; --cnnx-accent: #0969da; --cnnx-bg: #ffffff;
        --cnnx-soft: #f6f8fa; --cnnx-border: #d0d7de; font-family: system-ui, -apple-system, "Segoe UI",
        Roboto, sans-serif; color: var(--cnnx-fg); }
.cnnx-nav { display: flex; flex-wrap: wrap; gap: 4px; margin: 0; padding: 0; }
.cnnx-nav button { font: inherit; font-size: 13px; padding: 4px 8px; border-radius: 6px; cursor: pointer;
                   border: 1px solid var(--cnnx-border); background: var(--cnnx-bg); color: var(--cnnx-fg);
                   border-left: 5px solid var(--c); min-height: 32px; }
.cnnx-nav button[aria-pressed="true"] { background: var(--cnnx-fg); color: #fff; }
.cnnx-nav button:focus-visible, .cnnx-copy:focus-visible, .cnnx-table tr:focus-visible, .cnnx-scroll:focus-visible {
    outline: 3px solid var(--cnnx-accent); outline-offset: 2px; }
.cnnx-tree, .cnnx-tree ul { list-style: none; margin: 0; padding: 0; }
.cnnx-tree ul { padding-left: 18px; }
.cnnx-tree li { font-size: 13px; }
.cnnx-tree li:focus { outline: none; }
.cnnx-tree li:focus-visible > .cnnx-ti { outline: 3px solid var(--cnnx-accent); outline-offset: 1px; }
.cnnx-ti { display: inline-flex; align-items: center; gap: 4px; padding: 3px 8px; margin: 1px 0; min-height: 26px;
           border-radius: 6px; border: 1px solid var(--cnnx-border); border-left: 5px solid var(--c); cursor: pointer;
           background: var(--cnnx-bg); overflow-wrap: anywhere; max-width: 100%; box-sizing: border-box; }
.cnnx-ti small { color: var(--cnnx-muted); }
.cnnx-tree li[aria-selected="true"] > .cnnx-ti { background: var(--cnnx-fg); color: #fff; }
.cnnx-tree li[aria-selected="true"] > .cnnx-ti small { color: #d0d7de; }
.cnnx-twisty::before { content: "▸"; display: inline-block; width: 1em; }
.cnnx-tree li[aria-expanded="true"] > .cnnx-ti > .cnnx-twisty::before { content: "▾"; }
.cnnx-leaf { display: inline-block; width: 1em; }
.cnnx-treebar { margin-bottom: 4px; }
.cnnx-disclose { font: inherit; border: none; background: none; cursor: pointer; padding: 0 4px 0 0; }
.cnnx-disclose::before { content: "▸"; }
.cnnx-disclose[aria-expanded="true"]::before { content: "▾"; }
.cnnx-nested tr.cnnx-sub td { font-weight: 600; }
.cnnx-nested td:first-child { overflow-wrap: anywhere; }
.cnnx-legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 13px; color: var(--cnnx-muted);
               list-style: none; margin: 0; padding: 0; }
.cnnx-legend span { display: inline-block; width: 12px; height: 12px; border-radius: 3px;
                    margin-right: 5px; vertical-align: -1px; }
#layer-details { border: 1px solid var(--cnnx-border); border-radius: 8px; padding: 12px 16px;
                 background: var(--cnnx-bg); overflow-wrap: anywhere; }
#layer-details h2 { font-size: 20px; margin: 0; display: inline; }
#layer-details header { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
#layer-details .kind { color: var(--cnnx-muted); font-size: 14px; }
#layer-details dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 10px 0; }
#layer-details dt { color: var(--cnnx-muted); }
#layer-details dd { margin: 0; font-variant-numeric: tabular-nums; }
.cnnx-formula { display: block; color: var(--cnnx-muted); font-size: 13px; }
.cnnx-code { display: flex; gap: 8px; align-items: flex-start; flex-wrap: wrap; }
.cnnx-code pre { margin: 0; padding: 8px 10px; background: var(--cnnx-soft); border-radius: 6px;
                 white-space: pre-wrap; overflow-wrap: anywhere; flex: 1 1 220px; font-size: 13px; }
.cnnx-copy { font: inherit; font-size: 13px; padding: 4px 10px; border-radius: 6px; cursor: pointer;
             border: 1px solid var(--cnnx-border); background: var(--cnnx-soft); }
.cnnx-table { border-collapse: collapse; width: 100%; font-size: 14px; font-variant-numeric: tabular-nums; }
.cnnx-table th, .cnnx-table td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--cnnx-border); }
.cnnx-table td.num, .cnnx-table th.num { text-align: right; }
.cnnx-table tbody tr { cursor: pointer; }
.cnnx-table tbody tr:hover { background: var(--cnnx-soft); }
.cnnx-table tr.cnnx-selected { background: #ddf4ff; }
.cnnx-table tfoot td { font-weight: 600; }
.cnnx-scroll { overflow-x: auto; }
/* Bokeh's Div content box is an inline-block as wide as its widest line: cap it so wide tables
   and the step-through drawing scroll in their .cnnx-scroll box (no page overflow on a phone) */
.bk-clearfix { max-width: 100%; }
.cnnx-hint { color: var(--cnnx-muted); }
.cnnx-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.cnnx-bar { display: inline-block; height: 10px; min-width: 1px; border-radius: 2px; vertical-align: middle;
             max-width: 75%; }
.cnnx-pct { font-size: 12px; color: var(--cnnx-muted); margin-left: 6px; }
.cnnx-budget-table td { min-width: 110px; }
details summary { cursor: pointer; font-weight: 600; margin: 6px 0; }
.cnnx-quiz input { font: inherit; padding: 4px 6px; border: 1px solid var(--cnnx-border); border-radius: 6px;
                   max-width: 100%; }
.cnnx-feedback { font-weight: 600; }
@media (max-width: 600px) { .cnnx-table .wide { display: none; } #layer-details { padding: 10px; } }
"""

# Number fields (Panel IntInput/FloatInput are Bokeh spinners): the arrow buttons have no
# accessible name, take two Tab stops each and react to the mouse only. Hidden; the field keeps
# ArrowUp/ArrowDown (PageUp/PageDown for ten steps), typing and the mouse wheel (docs/design.md).
NUMBER_INPUT_CSS = """
/* :host raises the specificity above Bokeh's own rule, an adopted (later) stylesheet */
:host .bk-spin-wrapper > .bk-spin-btn { display: none; }
:host .bk-spin-wrapper input { padding-right: var(--padding-horizontal, 12px); }
"""

# Bokeh's warning button is white on #f0ad4e (contrast 1.9:1); a darker amber keeps the
# "careful" colour at WCAG AA contrast with white text (4.9:1, hover 7.1:1).
WARNING_BUTTON_CSS = """
.bk-btn.bk-btn-warning { background-color: #9a6700; border-color: #7d4e00; color: #ffffff; }
.bk-btn.bk-btn-warning:hover, .bk-btn.bk-btn-warning:active, .bk-btn.bk-btn-warning.bk-active {
    background-color: #7d4e00; border-color: #633d00; }
"""
