"""URLs that appear as text in the site's files but are never requested by the page.

The site loads nothing from outside its own origin (the e2e tests route every request and
fail on any that leaves 127.0.0.1). Some third-party bundles still *mention* remote URLs,
in licence comments, XML namespaces, or code paths the explorer never takes. They are
listed here, per file, with why each cannot be loaded; a new one fails tests/site.
Our own files (pages, loader, worker, service worker, site.css) mention none at all.
"""
from __future__ import annotations

import fnmatch
import re

URL_RE = re.compile(r"https?://[A-Za-z0-9.\-]*")

XMLNS = "XML/SVG namespace identifier (createElementNS), never fetched"

MENTIONS: dict[str, dict[str, str]] = {
    "panel/*/dist/assets/*.svg": {"www.w3.org": XMLNS},
    "panel/*/dist/bundled/reactiveesm/*/es-module-shims.min.js": {
        "www.jsdelivr.com": "licence comment"},
    "panel/*/dist/panel.min.js": {
        "www.w3.org": XMLNS,
        "github.com": "source/licence comment",
        "panel.pyviz.org": "documentation link in a message",
        "foo.com": "example in a comment/regular expression",
    },
    "pyodide/pyodide.js": {
        "cdn.jsdelivr.net": "Pyodide's default package CDN; the worker passes indexURL, "
                            "lockFileURL and packageBaseUrl of the site, so it is never used",
    },
    "static/js/bokeh-*.min.js": {
        "": "protocol prefix in a URL-detecting regular expression",
        "www.w3.org": XMLNS,
        "bokeh.org": "licence comment",
        "docs.bokeh.org": "documentation link in an error message",
        "github.com": "licence/source comment",
        "jquery.org": "licence comment",
        "jquery.com": "licence comment",
        "developers.google.com": "comment (GMapPlot docs)",
        "maps.googleapis.com": "GMapPlot loads Google Maps; the explorer has no GMapPlot",
        "cdn.jsdelivr.net": "MathJax (TeX) and Tabler icon fonts, loaded only for TeX "
                            "labels or icon= widgets, which the explorer does not use "
                            "(DESIGN: disable_math, inline SVG icons)",
        "tabler.io": "licence comment",
        "www.foretagsplatsen.se": "licence comment",
        "octopart.com": "licence comment (SlickGrid)",
        "threedubmedia.com": "licence comment (jquery.event.drag)",
        "fusejs.io": "licence comment",
        "kiro.me": "licence comment",
        "redux.js.org": "error-message link",
        "www.apache.org": "licence comment",
    },
}

TEXT_SUFFIXES = (".html", ".js", ".mjs", ".css", ".json", ".svg", ".txt", ".webmanifest")


def allowed(rel_path: str, host: str) -> bool:
    for pattern, hosts in MENTIONS.items():
        if fnmatch.fnmatch(rel_path, pattern) and host in hosts:
            return True
    return False


def scan(site) -> dict[str, set[str]]:
    """{relative path: hosts mentioned} for every text file of the site."""
    from pathlib import Path
    site = Path(site)
    found: dict[str, set[str]] = {}
    for p in sorted(site.rglob("*")):
        if not p.is_file() or not p.name.endswith(TEXT_SUFFIXES):
            continue
        text = p.read_text(encoding="utf-8", errors="replace")
        hosts = {m.group(0).split("://", 1)[1] for m in URL_RE.finditer(text)}
        if hosts:
            found[p.relative_to(site).as_posix()] = hosts
    return found


def unexplained(site) -> list[str]:
    return [f"{path}: {host or '(empty host)'}"
            for path, hosts in scan(site).items() for host in sorted(hosts)
            if not allowed(path, host)]
