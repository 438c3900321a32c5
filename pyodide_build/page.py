"""Turn Panel's prerendered pyodide-worker page into the site's pages (local URLs only).

Panel's output is kept for what it does well (the prerendered document, its resources);
what points off-site or does not fit is rewritten, and each rewrite asserts that it found
what it expects, so a Panel/Bokeh upgrade fails the build instead of shipping a CDN link:
- BokehJS <script>s from cdn.bokeh.org -> static/js/<bundle>-<version>.min.js
- Panel's inline worker handler -> assets/loader.js (ours: tiers, progress, offline)
- the page-wide loading overlay (body.pn-loading blocks every click) -> removed
- <html data-tier="static">, the site config, the status line, the stylesheet -> added
- a Content-Security-Policy <meta> (`csp_policy`), computed last from the final page
"""
from __future__ import annotations

import base64
import hashlib
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
ESM_SHIMS_RE = re.compile(
    r'<script type="esms-options">[^<]*</script>\s*'
    r'|<script type="text/javascript" src="[^"]*/es-module-shims[^"]*"></script>\s*')
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
# <script> types the browser executes (anything else is a data block, e.g. application/json)
JS_TYPES = {"", "text/javascript", "application/javascript", "module"}
INLINE_SCRIPT_RE = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.DOTALL)
# an inline event handler attribute in the page or in the HTML of a prerendered pane
# (JSON-escaped there: onclick=\"…\")
HANDLER_ATTR_RE = re.compile(r"""\son[a-z]+=\\?["']""")

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
    if '"esm":' not in text:
        # es-module-shims serves Panel's ESM components (none in this document); its start-up
        # feature test runs a blob: script, which the page's CSP refuses
        text = ESM_SHIMS_RE.sub("", text)
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
    head = ['<meta name="viewport" content="width=device-width, initial-scale=1">',
            # no icon: the browser would otherwise ask for /favicon.ico (a 404 at the root)
            '<link rel="icon" href="data:,">']
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
    return add_csp(text)


# ------------------------------------------------------------------ Content-Security-Policy

def inline_script_hashes(text: str) -> list[str]:
    """CSP source expressions ('sha256-…') of the inline scripts the browser would run."""
    out = []
    for m in INLINE_SCRIPT_RE.finditer(text):
        attrs = m.group("attrs")
        if re.search(r"\bsrc\s*=", attrs):
            continue
        t = re.search(r"""\btype\s*=\s*["']([^"']*)["']""", attrs)
        if (t.group(1).strip().lower() if t else "") not in JS_TYPES:
            continue
        digest = hashlib.sha256(m.group("body").encode("utf-8")).digest()
        out.append(f"'sha256-{base64.b64encode(digest).decode()}'")
    return sorted(set(out))


def csp_policy(text: str) -> str:
    """The strictest policy the page works under (docs/design.md, "Content-Security-Policy").

    Relaxations, each needed by something the page really does:
    - script-src 'unsafe-eval': BokehJS compiles CustomJS callbacks (the static tier's
      layer selection) with `new Function`;
    - style-src 'unsafe-inline': BokehJS and Panel style their shadow DOM with inline
      <style> elements and style attributes;
    - img-src/font-src data: blob:: Panel's CSS inlines icons and fonts as data: URLs,
      the explorer's downloads and images are data:/blob: URLs;
    - script-src-attr 'unsafe-inline' only when the page's HTML (the prerendered panes)
      has inline event handlers (onclick=…); otherwise 'none'.
    Inline <script>s are allowed by their sha256 only, so an injected script never runs.
    The worker's (Pyodide's) policy is the one its own response carries, not this one; a
    host sending CSP headers must allow 'wasm-unsafe-eval' there.
    """
    hashes = " ".join(inline_script_hashes(text))
    attr = "'unsafe-inline'" if HANDLER_ATTR_RE.search(text) else "'none'"
    directives = [
        "default-src 'self'",
        f"script-src 'self' 'unsafe-eval' {hashes}".rstrip(),
        f"script-src-elem 'self' {hashes}".rstrip(),
        f"script-src-attr {attr}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'none'",
    ]
    return "; ".join(directives)


def add_csp(text: str) -> str:
    """Insert the policy right after <meta charset> (a <meta> policy covers what follows it)."""
    policy = csp_policy(text).replace("&", "&amp;").replace('"', "&quot;")
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    return _sub_once(re.compile(r'(<meta charset="utf-8">)'), lambda m: m.group(1) + "\n" + meta,
                     text, "<meta charset>")


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
