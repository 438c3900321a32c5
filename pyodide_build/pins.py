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
# markupsafe) and the Pyodide builds of jinja2 / packaging / pyodide_http. Only used when a
# wheel is neither in --wheels DIR nor in the local cache. The one remote URL of this package.
OFFICIAL_WHEEL_BASE_URL = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/"

CACHE_DIR = Path(
    os.environ.get("CNN_EXPLORER_PYODIDE_CACHE")
    or Path.home() / ".cache" / "cnn-explorer" / f"pyodide-{PYODIDE_VERSION}"
)

# Files of the npm package the site serves (pyodide-lock.json is replaced by the site's own).
CORE_FILES = ("pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip")

# Pure-Python wheels from PyPI, pinned (the versions the desktop app is tested with).
# Only what `import panel` + a Bokeh/Markdown app really imports in Pyodide (DESIGN §5);
# the other declared dependencies of bokeh/panel are deliberately not shipped.
PYPI_WHEELS = {
    # name: (version, sha256 of the py3-none-any wheel on PyPI)
    "bokeh": ("3.9.2", "448e07d5ee78231f5bdece3be020024bb98696c0d6b127e0e2df0b8ba8fa9765"),
    "panel": ("1.9.4", "c89c4c1e728297daf0628ea5070fb0da8ad77781e2a3142d302479537c1de6a4"),
    "param": ("2.4.2", "56f56e991d11cdf9fa8248ca3b1c7d5badfd6b4da3b3886b764b95823d270b07"),
    "pyviz_comms": ("3.0.6", "4eba6238cd4a7f4add2d11879ce55411785b7d38a7c5dba42c7a0826ca53e6c2"),
    "markdown": ("3.11.3", "e1a31a112232504d753e5c01bb8c2de90d3f0ba986b063e10770cf7695b09e73"),
    "markdown-it-py": ("4.3.0", "7aa1511a46c39138de78d9eba92ce47e63124d8003fc98b3a351909e04239efa"),
    "mdit-py-plugins": ("0.7.0", "7f8e30403f3dd8bfe3afcdcbc6e61066d3f2e714167507b9c26eb385ec399353"),
    "mdurl": ("0.1.2", "84008a41e51615a49fc9966191ff91509e3c40b939176e643fd50a5c2196b8f8"),
    "linkify-it-py": ("2.2.0", "3adc40eb5af300b2605fcfdb968c24e1d780a90f1f2221af7c15e5111e94d443"),
}

# Wheels taken from the official Pyodide 0.29.3 distribution, verified against the sha256
# in the npm package's pyodide-lock.json. Keys are lock-file package names.
# numpy is the only one the live tier cannot do without *and* cannot be built here.
# nh3: Panel sanitises HTML through it (panel.util.HTML_SANITIZER, imported on first use);
# the explorer's panes need it.
PYODIDE_WHEELS = ("numpy", "nh3", "pyyaml", "markupsafe", "jinja2", "packaging",
                  "pyodide-http")
REQUIRED_COMPILED = ("numpy", "nh3")

# Paths stripped from wheels for the browser: the assets are served once as static files.
SLIM = {
    "panel": ("panel/dist/", "panel/tests/"),
    "bokeh": ("bokeh/server/static/",),
    # the explorer wheel is built from the checkout, which also packages this builder
    "cnn_explorer": ("pyodide_build/", "tests/"),
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
)
# encodings kept (everything else under encodings/ is a legacy codec)
STDLIB_ENCODINGS_KEEP = (
    "__init__", "aliases", "ascii", "base64_codec", "charmap", "cp1252", "cp437", "hex_codec",
    "idna", "latin_1", "punycode", "raw_unicode_escape", "rot_13", "undefined",
    "unicode_escape", "utf_16", "utf_16_be", "utf_16_le", "utf_32", "utf_32_be", "utf_32_le",
    "utf_7", "utf_8", "utf_8_sig", "zlib_codec", "bz2_codec", "quopri_codec", "uu_codec",
    "mbcs", "oem", "palmos",
)
