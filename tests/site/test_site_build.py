"""The built site is complete, verified, local-only and within its size budget."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from site_helpers import PROJECT, STUB_APP

from pyodide_build import mentions, page, wheels
from pyodide_build.build import MARKER, _check_strip
from pyodide_build.errors import BuildError
from pyodide_build.pins import CORE_FILES

BUDGET_DISK = 20_000_000
BUDGET_GZIP = 10_000_000


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def worker_config(site: Path) -> dict:
    text = (site / "assets" / "worker.js").read_text()
    m = re.search(r"const CONFIG = (\{.*?\});\n", text)
    assert m, "worker.js has no CONFIG"
    return json.loads(m.group(1))


def test_pages_reference_only_files_that_exist(live_site):
    site = live_site.path
    for name in ("index.html", "embed.html"):
        text = (site / name).read_text()
        assert '<html lang="en" data-tier="static"' in text
        assert 'id="cnn-status"' in text
        missing = [r for r in page.referenced(text) if not (site / r).is_file()]
        assert not missing, f"{name} references missing files: {missing}"
        assert "pn-loading" not in text.split("<body", 1)[1].split(">", 1)[0], \
            "the page-wide loading overlay would block clicks in the static tier"
    for name in ("sw.js", "assets/loader.js", "assets/site.css"):
        assert (site / name).is_file(), name


@pytest.mark.live
def test_lock_lists_exactly_the_vendored_wheels_with_real_hashes(require_live):
    site = require_live.path
    pyo = site / "pyodide"
    for name in CORE_FILES:
        assert (pyo / name).is_file(), name
    lock = json.loads((pyo / "pyodide-lock.json").read_text())
    assert lock["info"]["abi_version"] == "2025_0"
    listed = {p["file_name"] for p in lock["packages"].values()}
    shipped = {p.name for p in pyo.glob("*.whl")}
    assert listed == shipped
    for name, pkg in lock["packages"].items():
        path = pyo / pkg["file_name"]
        assert sha256(path) == pkg["sha256"], f"{name}: lock sha256 differs from the file"
        assert set(pkg["depends"]) <= set(lock["packages"]), name
        with zipfile.ZipFile(path) as z:   # RECORD consistent with the slimmed contents
            record = next(n for n in z.namelist() if n.endswith(".dist-info/RECORD"))
            rows = [r.split(",")[0] for r in z.read(record).decode().splitlines() if r]
            assert sorted(rows) == sorted(z.namelist()), f"{name}: RECORD out of date"
    for must in ("numpy", "panel", "bokeh", "param", "pyviz-comms", "pyyaml", "jinja2",
                 "markupsafe", "packaging", "cnn-explorer"):
        assert must in lock["packages"], must
    for never in ("pandas", "tornado", "pillow", "contourpy", "micropip", "pyodide-http"):
        assert never not in lock["packages"], never
    cfg = worker_config(site)
    # every wheel once: the compiled ones through Pyodide's loadPackage (one batch), the
    # pure-Python ones unzipped by the worker itself (docs/design.md §5)
    pure = [w["name"] for w in cfg["pure"]]
    assert sorted(cfg["packages"] + pure) == sorted(lock["packages"])
    assert "numpy" in cfg["packages"] and {"panel", "bokeh", "cnn-explorer"} <= set(pure)
    for w in cfg["pure"]:
        pkg = lock["packages"][w["name"]]
        assert w["file"] == pkg["file_name"] and w["file"].endswith("-none-any.whl"), w
        digest = base64.b64decode(w["integrity"].removeprefix("sha256-")).hex()
        assert digest == pkg["sha256"], f"{w['name']}: fetch integrity is not the lock's sha256"
        with zipfile.ZipFile(pyo / w["file"]) as z:
            assert not [n for n in z.namelist() if n.endswith(".so")], w["file"]
    # slimmed: no bundled assets inside the wheels
    with zipfile.ZipFile(pyo / next(p["file_name"] for n, p in lock["packages"].items()
                                    if n == "panel")) as z:
        assert not [n for n in z.namelist() if n.startswith(("panel/dist/", "panel/tests/"))]


def test_service_worker_caches_every_file(live_site):
    site = live_site.path
    text = (site / "sw.js").read_text()
    files = json.loads(re.search(r"const FILES = (\{.*?\});", text, re.DOTALL).group(1))
    on_disk = sorted(p.relative_to(site).as_posix() for p in site.rglob("*")
                     if p.is_file() and p.name not in (MARKER, "sw.js"))
    assert sorted(files) == on_disk
    for rel, digest in files.items():          # the service worker checks every download
        assert sha256(site / rel) == digest, rel
    version = re.search(r'const VERSION = "([0-9a-f]{16})";', text)
    assert version, "sw.js has no site version"


def test_no_url_outside_the_site(live_site):
    """Text files may *mention* remote URLs only where pyodide_build.mentions explains why
    they are never loaded; our own files mention none. (The e2e tests are the real guard:
    they fail on any request that leaves 127.0.0.1.)"""
    site = live_site.path
    assert mentions.unexplained(site) == []
    found = mentions.scan(site)
    for own in ("index.html", "embed.html", "sw.js", "assets/loader.js", "assets/worker.js",
                "assets/site.css"):
        assert own not in found, f"{own} mentions {found.get(own)}"
    for rel, hosts in found.items():
        if rel.endswith((".html", ".css")):
            pytest.fail(f"{rel} mentions {hosts}")


def test_size_budget(real_site, capsys):
    """The site the README tells users to build (the real app) stays within both budgets."""
    _, r, _ = real_site
    lines = [f"{c:38} {s / 1e6:7.2f} MB {g / 1e6:7.2f} MB gzip"
             for c, (s, g) in sorted(r.components.items(), key=lambda kv: -kv[1][0])]
    lines.append(f"{'TOTAL':38} {r.total / 1e6:7.2f} MB {r.total_gzip / 1e6:7.2f} MB gzip "
                 f"(budget {BUDGET_DISK / 1e6:.0f} MB / {BUDGET_GZIP / 1e6:.0f} MB gzip)")
    with capsys.disabled():
        print("\nsite size per component:\n  " + "\n  ".join(lines))
    # sizes are deterministic (pinned wheels, fixed zip dates): both budgets hold exactly
    assert r.total <= BUDGET_DISK
    assert r.total_gzip <= BUDGET_GZIP


@pytest.mark.parametrize("rel, module", [
    ("numpy/fft/__init__.py", "numpy.fft"),
    ("numpy/fft/_pocketfft_umath.cpython-313-wasm32-emscripten.so", "numpy.fft._pocketfft_umath"),
    ("bokeh/server/__pycache__/tornado.cpython-313.opt-2.pyc", "bokeh.server.tornado"),
    ("xml/dom/minidom.pyc", "xml.dom.minidom"),
    ("bokeh/server/views/app_index.html", None),
])
def test_stripped_files_map_to_modules(rel, module):
    assert wheels.module_name(rel) == module


def test_stripping_a_module_the_app_wants_is_a_build_error():
    stripped = {"numpy.fft": "stripped from numpy.whl by pins.SLIM", "xml": "stdlib"}
    report = {"profile": {"not_found": ["numpy.fft", "fsspec"]}, "stripped_but_imported": []}
    with pytest.raises(BuildError, match=r"numpy\.fft \(stripped from numpy\.whl"):
        _check_strip(stripped, report)
    # an import nobody strips (a library's optional dependency) is not the builder's doing
    _check_strip(stripped, {"profile": {"not_found": ["fsspec"]}, "stripped_but_imported": []})


def test_static_only_build_says_what_is_missing(static_site):
    assert not static_site.live
    notes = "\n".join(static_site.report.notes)
    assert "numpy-2.2.5-cp313-cp313-pyodide_2025_0_wasm32.whl" in notes
    assert "--wheels" in notes
    text = (static_site.path / "index.html").read_text()
    assert '"live":false' in text and "no numpy for Pyodide" in text
    assert not (static_site.path / "pyodide").exists()
    assert not (static_site.path / "assets" / "worker.js").exists()


def test_bad_wheel_hash_is_an_error_and_writes_nothing(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    bad = wheels / "numpy-2.2.5-cp313-cp313-pyodide_2025_0_wasm32.whl"
    bad.write_bytes(b"not the official wheel")
    out = tmp_path / "out"
    # an earlier site in --out must survive a failed build untouched
    out.mkdir()
    (out / MARKER).write_text("old\n")
    (out / "index.html").write_text("old site\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pyodide_build", "--out", str(out), "--wheels", str(wheels),
         "--entry", str(STUB_APP), "--no-download"],
        cwd=PROJECT, capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert str(bad) in proc.stderr
    assert sha256(bad) in proc.stderr
    assert "6eaab6a7bb658d71ebe702911a3deab715323642462eb41b65565ca6a7cc23f1" in proc.stderr
    assert (out / "index.html").read_text() == "old site\n"
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "index.html"])
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_refuses_to_replace_a_folder_it_did_not_build(tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    proc = subprocess.run(
        [sys.executable, "-m", "pyodide_build", "--out", str(out), "--entry", str(STUB_APP)],
        cwd=PROJECT, capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 2
    assert "not a site built by pyodide_build" in proc.stderr
    assert (out / "notes.txt").read_text() == "keep me"


def test_csp_allows_inline_scripts_by_hash_only():
    body = "Bokeh.set_log_level('info');"
    text = ('<html><head><meta charset="utf-8"></head><body>'
            f'<script type="text/javascript">{body}</script>'
            '<script type="application/json" id="d">{"a": 1}</script>'
            '<script src="static/js/x.js"></script></body></html>')
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    assert page.inline_script_hashes(text) == [f"'sha256-{digest}'"]   # not the JSON block
    policy = page.csp_policy(text)
    directives = dict(d.split(" ", 1) for d in policy.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["script-src-elem"] == f"'self' 'sha256-{digest}'"
    assert "'unsafe-inline'" not in directives["script-src"]
    assert directives["script-src-attr"] == "'none'"
    assert directives["object-src"] == "'none'"
    # inline handlers in a prerendered pane (JSON-escaped) need script-src-attr
    with_handler = text.replace('{"a": 1}', '{"text": "<button onclick=\\"go(1)\\">"}')
    assert dict(d.split(" ", 1) for d in page.csp_policy(with_handler).split("; "))[
        "script-src-attr"] == "'unsafe-inline'"
    out = page.add_csp(text)
    assert out.index('http-equiv="Content-Security-Policy"') < out.index("<script")


def test_only_wheels_without_compiled_code_are_unzipped_by_the_worker(tmp_path):
    """is_pure decides which wheels skip Pyodide's loadPackage: a `none-any` tag alone is
    not enough (a shared library inside needs Pyodide's dynlib loading)."""
    def make(name: str, members: dict[str, bytes]) -> wheels.Wheel:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for rel, data in members.items():
                z.writestr(rel, data)
        return wheels.Wheel(name=name.split("-")[0], version="1", path=path, source="test")

    pure = make("a-1-py3-none-any.whl", {"a/__init__.py": b"x = 1\n"})
    assert wheels.is_pure(pure)
    assert not wheels.is_pure(make("b-1-py3-none-any.whl", {"b/_c.cpython-313-wasm32-emscripten.so": b"\0asm"}))
    assert not wheels.is_pure(make("c-1-cp313-cp313-pyodide_2025_0_wasm32.whl", {"c/__init__.py": b""}))
    entry = wheels.pure_entry(pure)
    assert entry["name"] == "a" and entry["file"] == pure.path.name
    assert entry["integrity"] == "sha256-" + base64.b64encode(
        hashlib.sha256(pure.path.read_bytes()).digest()).decode()
