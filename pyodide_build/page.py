"""Turn Panel's prerendered pyodide-worker page into the site's pages (local URLs only).

Panel's output is kept for what it does well (the prerendered document, its resources);
what points off-site or does not fit is rewritten, and each rewrite asserts that it found
what it expects, so a Panel/Bokeh upgrade fails the build instead of shipping a CDN link:
- BokehJS <script>s from cdn.bokeh.org -> static/js/<bundle>-<version>.min.js
- Panel's inline worker handler -> assets/loader.js (ours: tiers, progress, offline)
- the page-wide loading overlay (body.pn-loading blocks every click) -> removed
- <html data-tier="static">, the site config, the status line, the stylesheet -> added
"""
from __future__ import annotations

import html as htmlmod
import json
import re
import shutil
from pathlib import Path

from .errors import BuildError

BOKEH_CDN_RE = re.compile(
    r"https://cdn\.bokeh\.org/bokeh/(?:release|dev)/(bokeh(?:-[a-z]+)?)-(\d+\.\d+\.\d+)(?:\.min)?\.js")
HANDLER_RE = re.compile(r"<script>\s*const pyodideWorker = new Worker\(.*?</script>\s*", re.DOTALL)
LOADING_LINK_RE = re.compile(r'<link rel="stylesheet" href="[^"]*/css/loading\.css"[^>]*>\s*')
SPINNER_STYLE_RE = re.compile(r'<style type="text/css">\s*:host\(\.pn-loading\):before.*?</style>', re.DOTALL)
BODY_RE = re.compile(r'<body class="pn-loading[^"]*">')
RENDER_ITEMS_RE = re.compile(r"const render_items = (\[.*?\]);\n", re.DOTALL)
PANEL_REF_RE = re.compile(r"""(?:\./)?panel/[0-9][^/"'\\]*/dist/[^"'\\\s)<>]+""")
ATTR_REF_RE = re.compile(r"""(?:src|href)=["']([^"'#?]+)["']""")
CSS_URL_RE = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""")

STATUS_LIVE = """<div id="cnn-status" class="cnn-status" role="status" aria-live="polite">\
<span class="cnn-status-text">Loading Python\u2026</span>\
<span class="cnn-status-pct" aria-hidden="true">0%</span>\
<div class="cnn-status-bar" role="progressbar" aria-label="Loading Python" aria-valuemin="0" \
aria-valuemax="100" aria-valuenow="0"><div class="cnn-status-fill"></div></div></div>
"""
STATUS_STATIC = """<div id="cnn-status" class="cnn-status cnn-status-static" role="status">\
<span class="cnn-status-text">{reason}</span><span class="cnn-status-pct"></span>\
<div class="cnn-status-bar" hidden><div class="cnn-status-fill"></div></div></div>
"""
ERROR_PREFIX = "Live Python features (editing the network, new inputs) are unavailable: "


def _sub_once(pattern: re.Pattern, repl, text: str, what: str, count_min=1) -> str:
    new, n = pattern.subn(repl, text)
    if n < count_min:
        raise BuildError(f"Panel's page changed shape: {what} not found (pattern {pattern.pattern[:60]!r})")
    return new


def bokeh_bundles(raw_html: str) -> list[tuple[str, str]]:
    """[(bundle name, version)] of the BokehJS bundles the page loads, in order."""
    return [(m.group(1), m.group(2)) for m in BOKEH_CDN_RE.finditer(raw_html)]


def static_render_items(raw_html: str) -> list:
    m = RENDER_ITEMS_RE.search(raw_html)
    if not m:
        raise BuildError("Panel's page changed shape: prerender render_items not found")
    return json.loads(m.group(1))


def rewrite(raw_html: str, *, embed: bool, live: bool, reason: str | None,
            base_url: str | None, drop_bundles: tuple[str, ...] = ()) -> str:
    """One site page from Panel's prerendered page."""
    text = raw_html

    def bokeh_local(m: re.Match) -> str:
        return f"static/js/{m.group(1)}-{m.group(2)}.min.js"

    for name in drop_bundles:
        text = re.sub(r'<script type="text/javascript" src="https://cdn\.bokeh\.org/bokeh/release/'
                      + re.escape(name) + r'-[^"]+"></script>\s*', "", text)
    text = _sub_once(BOKEH_CDN_RE, bokeh_local, text, "BokehJS CDN <script>")
    text = _sub_once(HANDLER_RE, "", text, "Panel's worker handler script")
    text = LOADING_LINK_RE.sub("", text, count=1)
    text = SPINNER_STYLE_RE.sub("", text, count=1)
    text = _sub_once(BODY_RE, "<body>", text, "<body class=\"pn-loading …\">")

    classes = ' class="cnn-embed"' if embed else ""
    text = _sub_once(re.compile(r"<html lang=\"([^\"]*)\">"),
                     lambda m: f'<html lang="{m.group(1)}" data-tier="static"{classes}>',
                     text, "<html lang=…>")
    config = {
        "live": live,
        "worker": "assets/worker.js",
        "serviceWorker": "sw.js",
        # start Python once the prerendered page is on screen (see loader.js)
        "workerStart": "late",
        "embed": embed,
        "errorPrefix": ERROR_PREFIX,
        "staticRenderItems": static_render_items(raw_html),
    }
    config_json = json.dumps(config, separators=(",", ":")).replace("</", "<\\/")
    head = ['<meta name="viewport" content="width=device-width, initial-scale=1">']
    if base_url:
        head.insert(0, f'<base href="{htmlmod.escape(base_url, quote=True)}">')
    head += [
        '<link rel="stylesheet" href="assets/site.css" type="text/css">',
        f'<script type="application/json" id="cnn-site-config">{config_json}</script>',
        '<script src="assets/loader.js"></script>',
    ]
    text = _sub_once(re.compile(r'(<meta charset="utf-8">)'),
                     lambda m: m.group(1) + "\n" + "\n".join(head), text, "<meta charset>")
    status = STATUS_LIVE if live else STATUS_STATIC.format(
        reason=htmlmod.escape(ERROR_PREFIX + (reason or "this build has no Python runtime.")))
    if embed:
        text = _sub_once(re.compile(r"(\s*</body>)"), lambda m: "\n" + status + m.group(1),
                         text, "</body>")
    else:
        text = text.replace("<body>", "<body>\n" + status, 1)
    return text


# ------------------------------------------------------------------ static files

def referenced(text: str) -> set[str]:
    """Site-relative paths a page or stylesheet refers to (src/href and Panel dist URLs)."""
    refs = set()
    for m in ATTR_REF_RE.finditer(text):
        ref = m.group(1)
        if "://" in ref or ref.startswith(("data:", "blob:", "/", "mailto:")):
            continue
        refs.add(ref.removeprefix("./"))
    for m in PANEL_REF_RE.finditer(text):
        ref = m.group(0)
        refs.add(ref.removeprefix("./"))
    return refs


def panel_dist_prefix(text: str) -> str | None:
    m = re.search(r"(?:\./)?(panel/[0-9][^/\"'\\]*/dist/)", text)
    return m.group(1) if m else None


def copy_panel_assets(site: Path, pages: list[str], panel_dist: Path, bokeh_js: Path,
                      bundles: list[tuple[str, str]]) -> list[str]:
    """Copy what the pages reference from the installed Panel and BokehJS; also Panel's
    whole css/ folder (a live document may add widgets whose stylesheet the prerender did
    not need) and, transitively, what those stylesheets url() to. Returns copied paths."""
    copied: list[str] = []
    for name, version in bundles:
        src = bokeh_js / f"{name}.min.js"
        if not src.is_file():
            raise BuildError(f"BokehJS bundle {src} is missing from the installed bokeh")
        dst = site / "static" / "js" / f"{name}-{version}.min.js"
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        copied.append(dst.relative_to(site).as_posix())
    prefix = None
    for text in pages:
        prefix = prefix or panel_dist_prefix(text)
    if prefix is None:
        raise BuildError("the pages reference no Panel assets (panel/<version>/dist/)")
    todo: list[str] = []
    for text in pages:
        todo += [r for r in referenced(text) if r.startswith(prefix)]
    todo += [prefix + "css/" + p.relative_to(panel_dist / "css").as_posix()
             for p in sorted((panel_dist / "css").rglob("*.css"))]
    seen: set[str] = set()
    while todo:
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        src = panel_dist / ref[len(prefix):]
        if not src.is_file():
            raise BuildError(f"the page references {ref}, but {src} does not exist")
        dst = site / ref
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        copied.append(ref)
        if src.suffix == ".css":
            for m in CSS_URL_RE.finditer(src.read_text(encoding="utf-8", errors="replace")):
                url = m.group(1).strip()
                if url.startswith(("data:", "#")) or "://" in url:
                    continue
                target = (Path(ref).parent / url.split("?")[0].split("#")[0])
                norm = _normpath(target.as_posix())
                if norm.startswith(prefix):
                    todo.append(norm)
    return sorted(copied)


def _normpath(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)
