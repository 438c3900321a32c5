"""Pinned versions and the one place every external source is named.

Nothing else in pyodide_build names a version or a remote location.
"""
from __future__ import annotations

import os
from pathlib import Path

PYODIDE_VERSION = "0.29.3"
PYTHON_TAG = "cp313"  # Pyodide 0.29.3 runs CPython 3.13.2
NPM_SPEC = f"pyodide@{PYODIDE_VERSION}"

# The official Pyodide distribution: the last resort for compiled wheels (numpy, pyyaml,
# markupsafe) and the Pyodide builds of jinja2 / packaging. Only used when a
# wheel is neither in --wheels DIR nor in the local cache. The one remote URL of this package.
OFFICIAL_WHEEL_BASE_URL = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/"

CACHE_DIR = Path(
    os.environ.get("CNN_EXPLORER_PYODIDE_CACHE")
    or Path.home() / ".cache" / "cnn-explorer" / f"pyodide-{PYODIDE_VERSION}"
)

# Files of the npm package the site serves (pyodide-lock.json is replaced by the site's own).
CORE_FILES = ("pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip")

# The npm tarball and the files taken from it, pinned here rather than trusted from the
# registry: the registry's `dist.integrity`, when it answers, must agree with NPM_INTEGRITY,
# and every file is checked against CORE_SHA256 after extraction. pyodide-lock.json is the
# reference for the official wheels' sha256, so it is pinned too.
NPM_INTEGRITY = ("sha512-22UBuhOJawj7vKUnS7/F3xK+515LJdjiMAHoCfuS6/PbHiOrSQVnYwDe+2sbVwiOZ3sMM"
                 "exdXICew6NqOMQGgA==")
CORE_SHA256 = {
    "pyodide.js": "718d40f1c015dd25ec724cc8fc4e2325d6a45a92ae225121ff6953f224a16f72",
    "pyodide.asm.js": "1263f02b5b26099b96112378156f242dd98b39a8201ba7765e5fe3d455c5ce91",
    "pyodide.asm.wasm": "e2f4ee75b325e35eb31bfb8c613d4dd5098f5502c156a97847686875b5025480",
    "python_stdlib.zip": "4298b6ee445cb724c3973437da47789752b9e6ff4e26619026b283ec801fc46b",
    "pyodide-lock.json": "3256ffc76388de0e37f4b34d42ab484268d1afc675179ff97b2a5bb14f84ccac",
}

# Pure-Python wheels from PyPI, pinned (the versions the desktop app is tested with).
# Only what `import panel` + this app really import in Pyodide (DESIGN §5); the other
# declared dependencies of bokeh/panel are deliberately not shipped. The explorer has no
# Markdown pane (HTML panes only), so markdown, markdown-it-py and their plugins are not
# shipped either: the build fails if the app or its drill tries to import them.
PYPI_WHEELS = {
    # name: (version, sha256 of the py3-none-any wheel on PyPI)
    "bokeh": ("3.9.2", "448e07d5ee78231f5bdece3be020024bb98696c0d6b127e0e2df0b8ba8fa9765"),
    "panel": ("1.9.4", "c89c4c1e728297daf0628ea5070fb0da8ad77781e2a3142d302479537c1de6a4"),
    "param": ("2.4.2", "56f56e991d11cdf9fa8248ca3b1c7d5badfd6b4da3b3886b764b95823d270b07"),
    "pyviz_comms": ("3.0.6", "4eba6238cd4a7f4add2d11879ce55411785b7d38a7c5dba42c7a0826ca53e6c2"),
}

# Wheels taken from the official Pyodide 0.29.3 distribution, verified against the sha256
# in the npm package's pyodide-lock.json. Keys are lock-file package names.
# numpy is the only one the live tier cannot do without *and* cannot be built here.
# Not nh3 (Panel's HTML sanitiser, 0.4 MB): Panel imports it only for ReactiveHTML components
# (e.g. pn.FlexBox), which the explorer does not use (explorer/app/rows.py); the build's
# drill fails if anything imports it.
# Not pyodide-http: Panel patches urllib/requests with it when it is there, so that Python code
# can fetch URLs; the page fetches nothing from Python (it is offline), and the import pulled
# in urllib.request, http.client and the email package with every page.
PYODIDE_WHEELS = ("numpy", "pyyaml", "markupsafe", "jinja2", "packaging")
REQUIRED_COMPILED = ("numpy",)

# Stand-ins from PyPI when an official Pyodide wheel other than numpy cannot be had, fetched
# by pip with --require-hashes: lock name -> (version, what is downloaded, its sha256).
# "sdist": built here into a pure wheel (C accelerator off); "wheel": a py3-none-any wheel.
# The versions are those of pyodide@0.29.3's lock (the build checks they still agree).
FALLBACK_PINS = {
    "pyyaml": ("6.0.2", "sdist", "d584d9ec91ad65861cc08d42e834324ef890a082e591037abe114850ff7bbc3e"),
    "markupsafe": ("3.0.2", "sdist",
                   "ee55d3edf80167e48ea11a923c7386f4669df67d7994554387f84e7d8b0a2bf0"),
    "jinja2": ("3.1.6", "wheel", "85ece4451f492d0c13c5dd7c13a64681a86afae63a5f347908daf103ce6d2f67"),
    "packaging": ("24.2", "wheel", "09abb1bccd265c01f4a3aa3f7a7db064b36514d2cba19a2f694fe6150451a759"),
}

# Paths stripped from wheels for the browser: the assets are served once as static files,
# and code that only runs in a server, a CLI, a notebook or a docs build never runs in the
# page. The build runs the app and the explorer's drill in Pyodide and fails if any of it
# imports (or tries to import) a stripped module (pyodide_build.build._check_strip).
_BOKEH_SERVER = tuple(f"bokeh/server/{m}" for m in (
    "auth_provider.py", "callbacks.py", "connection.py", "protocol_handler.py",
    "server.py", "session.py", "tornado.py", "urls.py", "util.py", "views/"))
_PANEL_SERVER = tuple(f"panel/io/{m}.py" for m in (
    "admin", "application", "compile", "convert", "django", "fastapi", "handlers", "ipywidget",
    "jupyter_executor", "jupyter_server_extension", "liveness", "reload", "rest", "server",
    "threads"))
def _older_sri(version: str) -> tuple[str, ...]:
    """Prefixes of bokeh/_sri/<v>.json for every release before `version`: BokehJS's CDN
    integrity hashes, of which Bokeh reads only its own version's file (at document build)."""
    major, minor, patch = (int(p) for p in version.split("."))
    return (*(f"bokeh/_sri/{m}." for m in range(major)),
            *(f"bokeh/_sri/{major}.{n}." for n in range(minor)),
            *(f"bokeh/_sri/{major}.{minor}.{p}.json" for p in range(patch)))


SLIM = {
    "panel": ("panel/dist/", "panel/tests/", "panel/command/", "panel/auth.py", "panel/compiler.py",
              "panel/package-lock.json", "panel/pane/vtk/synchronizable_",
              *_PANEL_SERVER),
    "bokeh": ("bokeh/server/static/", "bokeh/sphinxext/", "bokeh/command/",
              "bokeh/client/", "bokeh/sampledata/", "bokeh/application/handlers/",
              "bokeh/util/tornado.py", *_older_sri(PYPI_WHEELS["bokeh"][0]), *_BOKEH_SERVER),
    # numpy's FFT, polynomial and testing packages load lazily (numpy.__getattr__)
    "numpy": ("numpy/fft/", "numpy/polynomial/", "numpy/testing/", "numpy/conftest.py",
              "numpy/ma/timer_comparison.py", "numpy/ma/testutils.py", "numpy/ma/README.rst",
              # imported only by name (never by numpy itself): record arrays, ctypes, matrices,
              # mypy's plugin
              "numpy/lib/recfunctions.py", "numpy/ma/mrecords.py", "numpy/ctypeslib",
              "numpy/matlib.py", "numpy/typing/mypy_plugin.py"),
    # the JupyterLab extension (twice: package data and wheel .data)
    # (pyviz_comms reads labextension/package.json and notebook.js at import)
    "pyviz_comms": ("pyviz_comms/labextension/static/", "pyviz_comms/labextension/schemas/",
                    "pyviz_comms/tests/", "pyviz_comms-3.0.6.data/"),
    # only packaging.version is used (by bokeh and panel)
    "packaging": ("packaging/licenses/", "packaging/metadata.py", "packaging/tags.py",
                  "packaging/_manylinux.py", "packaging/_musllinux.py", "packaging/_elffile.py",
                  "packaging/tags.py.orig"),
    # the explorer wheel is built from the checkout, which also packages this builder; its
    # command line, desktop server and static export run on the desktop only
    "cnn_explorer": ("pyodide_build/", "tests/", "explorer/cli.py", "explorer/__main__.py",
                     "explorer/app/server.py", "explorer/app/export.py"),
}
# File endings stripped from panel (TypeScript/LESS sources of its models: bundled in panel.min.js)
SLIM_SUFFIXES = {"panel": (".ts", ".less", ".tsx")}

# Files and folders stripped from every wheel (never imported in the browser).
SLIM_ANY = ("/__pycache__/", ".pyi", "/py.typed")

# Stdlib modules removed from python_stdlib.zip: never imported by the app or its libraries
# in a browser (REPL, debuggers, doc tools, mail/ftp clients, servers, multiprocessing, and
# the legacy 8-bit / CJK codecs). Prefixes of paths inside the zip.
STDLIB_STRIP = (
    "_pyrepl/", "pydoc.py", "doctest.py", "pdb.py", "xmlrpc/", "wsgiref/", "multiprocessing/",
    "pickletools.py", "tabnanny.py", "trace.py", "imaplib.py", "mailbox.py", "smtplib.py",
    "poplib.py", "ftplib.py", "modulefinder.py", "pyclbr.py", "zipapp.py", "__hello__.py",
    "__phello__/", "antigravity.py", "this.py", "idlelib/", "turtledemo/", "turtle.py",
    "lib2to3/", "ensurepip/", "venv/", "tkinter/", "curses/", "dbm/",
    # XML, cookies and HTTP serving, config/CLI parsers, Windows event loops, debugger and
    # timing tools, and the pure-Python fallbacks of C modules Pyodide has built in
    "xml/", "http/cookiejar.py", "http/cookies.py", "http/server.py", "socketserver.py",
    "optparse.py", "configparser.py", "logging/handlers.py", "logging/config.py", "bdb.py",
    "plistlib.py", "wave.py", "compileall.py", "timeit.py", "cmd.py", "fileinput.py",
    "tracemalloc.py", "asyncio/windows_events.py", "asyncio/windows_utils.py",
    "asyncio/proactor_events.py", "concurrent/futures/process.py", "ctypes/_aix.py",
    "_pyio.py", "_pydatetime.py", "_pydecimal.py", "tomllib/", "statistics.py", "fractions.py",
    "sched.py", "getpass.py", "mailcap.py", "nntplib.py", "telnetlib.py", "cgi.py", "cgitb.py",
    "smtpd.py", "asynchat.py", "asyncore.py", "imghdr.py", "sndhdr.py", "sunau.py", "aifc.py",
    "chunk.py", "pipes.py", "crypt.py", "nturl2path.py", "uu.py", "xdrlib.py", "msilib/",
)
# encodings kept (everything else under encodings/ is a legacy codec)
STDLIB_ENCODINGS_KEEP = (
    "__init__", "aliases", "ascii", "base64_codec", "charmap", "cp1252", "cp437", "hex_codec",
    "idna", "latin_1", "punycode", "raw_unicode_escape", "rot_13", "undefined",
    "unicode_escape", "utf_16", "utf_16_be", "utf_16_le", "utf_32", "utf_32_be", "utf_32_le",
    "utf_7", "utf_8", "utf_8_sig", "zlib_codec", "bz2_codec", "quopri_codec", "uu_codec",
    "mbcs", "oem", "palmos",
)
