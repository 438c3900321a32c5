"""Make `import panel` do less in the browser: lazy package `__init__` files, and no standard
library that only a server, package metadata or a URL fetch needs (docs/design.md §5).

Panel's `__init__.py` files import every pane, widget and subpackage it has (chat, templates,
HoloViews/Plotly/Vega/VTK panes, sliders, tables, speech, terminals, ...), although the page
only reaches a few. For the site build, selected `from .x import A, B` statements of those
files are removed and replaced by a PEP 562 module `__getattr__` that imports `.x` the first
time `A` or `B` is looked up: `pn.chat`, `pn.widgets.Tabulator`, `from panel.pane import
HoloViews` all still work, they just import on first use. A few other statements are deferred
(`plain`: one top-level `import x` becomes a stand-in that imports on first attribute use) or
replaced by exact text (`replace`: Bokeh's version literal, Panel's pyodide_http patch off).

Each rewrite is pinned to the exact file it was written for (its sha256 in the pinned Panel
release): if Panel changes, the build stops and says which file to review, rather than
rewriting something nobody has looked at. The build's profile run and drill (the app and
every user action in Pyodide, pyodide_build/pyc.py) then run against the rewritten files.
Measured savings: bench/import_profile.py; figures in pyodide_build/README.md.
"""
from __future__ import annotations

import ast
import dataclasses
import hashlib
from pathlib import Path

from .errors import BuildError

MARK = "# --- pyodide_build.trim: imported on first use (PEP 562) ---"


@dataclasses.dataclass(frozen=True)
class LazyRewrite:
    """Defer the `from <module> import ...` statements of one package `__init__.py`
    (`modules`), or one top-level `import <name>` of any module (`plain`), or replace exact
    text that occurs once each (`replace`: (old, new) pairs).

    path: the file inside the unpacked wheel; sha256: of the file as released (the guard);
    modules: the relative modules whose import statements are deferred, spelled as in the
    file ("." + name for `from . import name`, ".holoviews", "..param").
    """

    package: str        # distribution name, as in pins.PYPI_WHEELS
    version: str
    path: str
    sha256: str
    modules: tuple[str, ...]
    epilogue: str = ""      # code appended after the module __getattr__
    plain: str = ""         # instead: the module of a top-level `import <plain>` to defer
    replace: tuple[tuple[str, str], ...] = ()   # instead: exact text, each found exactly once


def _spec(node: ast.ImportFrom) -> str:
    return "." * node.level + (node.module or "")


def _deferred(node: ast.ImportFrom, modules: tuple[str, ...]) -> tuple[list, list]:
    """(kept aliases, deferred aliases) of one `from .x import ...` statement."""
    if node.module is None:                     # from . import a, b: one submodule per name
        chosen = ["." * node.level + a.name in modules for a in node.names]
    else:
        chosen = [_spec(node) in modules] * len(node.names)
    return ([a for a, c in zip(node.names, chosen) if not c],
            [a for a, c in zip(node.names, chosen) if c])


def lazy_source(text: str, modules: tuple[str, ...], where: str, epilogue: str = "") -> str:
    """`text` with the import statements of `modules` replaced by a module `__getattr__`.
    Pure function (unit-tested); raises BuildError naming `where` if a statement is missing,
    the file already defines `__getattr__`, or a deferred name is also a submodule's name
    (`from .interact import interact`: importing the submodule would bind the module to that
    name, so the lookup would never reach `__getattr__`). `epilogue` is appended as is."""
    tree = ast.parse(text)
    if any(isinstance(n, ast.FunctionDef) and n.name == "__getattr__" for n in tree.body):
        raise BuildError(f"{where} already defines __getattr__; pyodide_build/trim.py cannot "
                         "make it lazy")
    lines = text.splitlines(keepends=True)
    lazy: dict[str, tuple[str, str | None]] = {}
    edits: list[tuple[int, int, str]] = []
    seen: set[str] = set()
    for node in tree.body:                      # top level only: never inside if/try
        if not isinstance(node, ast.ImportFrom) or node.level == 0:
            continue
        kept, deferred = _deferred(node, modules)
        if not deferred:
            continue
        for alias in deferred:
            bound = alias.asname or alias.name
            if node.module is None:             # the submodule itself
                target = ("." * node.level + alias.name, None)
            else:
                target = (_spec(node), alias.name)
                if bound == node.module.split(".")[-1]:
                    raise BuildError(f"{where}: cannot defer `from {_spec(node)} import "
                                     f"{alias.name}`: the name is also its submodule's")
            seen.add(target[0])
            lazy[bound] = target
        keep = ""
        if kept:
            names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in kept)
            keep = f"from {_spec(node)} import {names}  # noqa\n"
        edits.append((node.lineno - 1, node.end_lineno, keep))
    missing = [m for m in modules if m not in seen]
    if missing:
        raise BuildError(f"{where}: no top-level import of {missing[0]} to defer "
                         "(the file changed; review pyodide_build/trim.py)")
    for start, end, keep in sorted(edits, reverse=True):
        lines[start:end] = [keep] if keep else []
    table = "".join(f"    {name!r}: {target!r},\n" for name, target in sorted(lazy.items()))
    tail = (f"\n\n{MARK}\n"
            "_CNNX_LAZY = {\n" + table + "}\n\n\n"
            "def __getattr__(name):\n"
            "    target = _CNNX_LAZY.get(name)\n"
            "    if target is None:\n"
            "        raise AttributeError(f\"module {__name__!r} has no attribute {name!r}\")\n"
            "    spec, attr = target\n"
            "    base = spec.lstrip('.')\n"
            "    # the import statement's own machinery (python -X importtime sees it)\n"
            "    module = __import__(base, globals(), None, ('__name__',), len(spec) - len(base))\n"
            "    value = module if attr is None else getattr(module, attr)\n"
            "    globals()[name] = value\n"
            "    return value\n")
    if epilogue:
        tail += "\n\n" + epilogue.strip("\n") + "\n"
    return "".join(lines).rstrip("\n") + tail


def deferred_import_source(text: str, module: str, where: str) -> str:
    """`text` with its top-level `import <module>` replaced by a stand-in that imports the
    module on its first attribute lookup (for modules used only inside rarely-called
    functions). Pure function; BuildError naming `where` if there is no such statement."""
    tree = ast.parse(text)
    nodes = [n for n in tree.body if isinstance(n, ast.Import) and len(n.names) == 1
             and n.names[0].name == module and n.names[0].asname is None]
    if len(nodes) != 1 or "." in module:
        raise BuildError(f"{where}: no single top-level `import {module}` to defer "
                         "(the file changed; review pyodide_build/trim.py)")
    node = nodes[0]
    lines = text.splitlines(keepends=True)
    stand_in = (f"class _CnnxDeferred:  # pyodide_build.trim: `import {module}` on first use\n"
                "    def __getattr__(self, attr):\n"
                f"        import {module}\n"
                f"        globals()[{module!r}] = {module}\n"
                f"        return getattr({module}, attr)\n\n\n"
                f"{module} = _CnnxDeferred()\n")
    lines[node.lineno - 1:node.end_lineno] = [stand_in]
    return "".join(lines)


def replaced_source(text: str, pairs: tuple[tuple[str, str], ...], where: str) -> str:
    """`text` with each `old` replaced by its `new`; BuildError naming `where` unless every
    `old` occurs exactly once (the file changed: someone must look again)."""
    for old, new in pairs:
        if text.count(old) != 1:
            raise BuildError(f"{where}: expected {old!r} exactly once, found it {text.count(old)} "
                             "times (the file changed; review pyodide_build/trim.py)")
        text = text.replace(old, new)
    return text


# pn.panel(obj) picks the pane class by asking every PaneBase subclass defined so far: before
# the first such lookup of an object that is neither a Panel object nor a Bokeh model, the
# deferred panes (and panel.param's ParamFunction, ParamMethod, ReactiveExpr, ...) are
# imported, so the choice is the same as with the untouched Panel. Bokeh models (the
# explorer puts Divs and plots into its layouts) go to the Bokeh pane either way: none of the
# deferred panes applies to them (tests/unit/test_trim.py checks that).
PANE_EPILOGUE = """
def _cnnx_all_panes_first(get_pane_type):
    def first_lookup(cls, obj, **kwargs):
        from bokeh.model import Model

        from ..viewable import Viewable
        if not isinstance(obj, (Viewable, Model)):
            for _name in _CNNX_LAZY:
                __getattr__(_name)
            PaneBase.get_pane_type = classmethod(get_pane_type)
        return get_pane_type(cls, obj, **kwargs)
    return classmethod(first_lookup)


PaneBase.get_pane_type = _cnnx_all_panes_first(PaneBase.get_pane_type.__func__)
"""

LAZY_TEMPLATES = """
_CNNX_TEMPLATES = {"INDEX_TEMPLATE": "convert_index.html", "ERROR_TEMPLATE": "error.html",
                   "LOGOUT_TEMPLATE": "logout.html", "BASIC_LOGIN_TEMPLATE": "basic_login.html"}


def __getattr__(name):  # pyodide_build.trim: these templates compile on first use
    if name in _CNNX_TEMPLATES:
        globals()[name] = template = _env.get_template(_CNNX_TEMPLATES[name])
        return template
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""

# Panel 1.9.4. Kept eager: everything the explorer and Panel's own core (layouts, HTML and
# Bokeh panes, buttons, inputs, selects, write_doc) import anyway. Deferred: the rest.
PANEL_VERSION = "1.9.4"
BOKEH_VERSION = "3.9.2"
REWRITES = (
    LazyRewrite("panel", PANEL_VERSION, "panel/__init__.py",
                "bed46e2e548833d3125f2ac6e7965f7d3884ff6a8a991e841673c5ff79dc2dd2",
                (".chat", ".custom", ".pipeline", ".template", ".param")),
    LazyRewrite("panel", PANEL_VERSION, "panel/pane/__init__.py",
                "ce50271a035c68fcd364a91445e1c4b2688d3298b2205554f2b91b9dc6ea344d",
                (".deckgl", ".echarts", ".equation", ".holoviews", ".ipywidget", ".media",
                 ".perspective", ".plotly", ".streamz", ".textual", ".vega", ".vizzu", ".vtk",
                 "..param"), PANE_EPILOGUE),
    LazyRewrite("panel", PANEL_VERSION, "panel/widgets/__init__.py",
                "9abe772127acc43e4972e93b351d57fbdee8fbc63a557ecc24197280e8ae9bfd",
                (".codeeditor", ".debugger", ".file_selector", ".misc", ".player",
                 ".speech_to_text", ".tables", ".terminal", ".text_to_speech", ".texteditor")),
    # Every component asks for its design at creation (Native by default): importing
    # panel.theme also imported the Bootstrap, Fast and Material designs, and with them
    # Tabulator and panel.widgets.tables, for styling rules the page never uses
    LazyRewrite("panel", PANEL_VERSION, "panel/theme/__init__.py",
                "6fc061100424afd5b29cb7fdec72f39ff0b85496ce8f146332b5723e8b84c769",
                (".bootstrap", ".fast", ".material")),
    # PyYAML reads bokeh.yaml config files and YAML themes: neither exists in the site
    LazyRewrite("bokeh", BOKEH_VERSION, "bokeh/settings.py",
                "e372a8d0aad8911f5881174b1f6c94b8d1f4906ef13fe4d6dcacf8ad0ebee2f5", (),
                plain="yaml"),
    LazyRewrite("bokeh", BOKEH_VERSION, "bokeh/themes/theme.py",
                "4e46190f584bae32c11d49266d649535b4b21e0eb6091f8f979bc83f12f9c725", (),
                plain="yaml"),
    # Bokeh reads its own version from its installed metadata, which parses the METADATA
    # file with the email package (~15 modules): the vendored release is known here
    LazyRewrite("bokeh", BOKEH_VERSION, "bokeh/__init__.py",
                "2edd6cffb3c4f125c9d6046f964028677987011592c48e6877bbc98c7172a1f0", (),
                replace=(("import importlib.metadata as importlib_metadata\n", ""),
                         ('__version__ = importlib_metadata.version("bokeh")',
                          f'__version__ = "{BOKEH_VERSION}"  # pyodide_build.trim: the vendored release'),
                         ("del importlib_metadata\n", ""))),
    # calendar (and with it locale) serves only session-token expiry, a server's business
    LazyRewrite("bokeh", BOKEH_VERSION, "bokeh/util/token.py",
                "80e19f825f4cca7ba2b0086e64e8a769cf08e0318ec6f24b6b252f78bdb1cf65", (),
                plain="calendar"),
    # Panel patches urllib/requests with pyodide_http so that Python code can fetch URLs (and
    # patches pandas.read_csv when it cannot): the page fetches nothing from Python, and the
    # site ships neither (pins.PYODIDE_WHEELS); the import cost urllib.request, http.client and
    # the email package on every page
    LazyRewrite("panel", PANEL_VERSION, "panel/io/pyodide.py",
                "207b2b231ef32ea8c9d459ead5b7c39646f9f3582bea23d2ec9fe8f86856bbaa", (),
                replace=(("    import pyodide_http\n    pyodide_http.patch_all()\n",
                          "    pyodide_http = False   # pyodide_build.trim: no Python fetches in the site\n"),)),
    # Panel compiles six Jinja templates at import; the page's worker renders none (its
    # document goes out as JSON). base.html stays (panel.io.save binds it as a default) and so
    # does js_resources.html (the module's own functions name it); the pages of a server, of
    # `panel convert` and of its login compile on first use (a PEP 562 module __getattr__)
    LazyRewrite("panel", PANEL_VERSION, "panel/io/resources.py",
                "2d14c3c82dc28387e979b3107f66b10ffaa3e8b1aeaab5f88fcdc0b5aa0c1e72", (),
                replace=(("INDEX_TEMPLATE = _env.get_template('convert_index.html')\n", ""),
                         ("ERROR_TEMPLATE = _env.get_template('error.html')\n"
                          "LOGOUT_TEMPLATE = _env.get_template('logout.html')\n"
                          "BASIC_LOGIN_TEMPLATE = _env.get_template('basic_login.html')\n", ""),
                         ("JS_RESOURCES = _env.get_template('js_resources.html')\n",
                          "JS_RESOURCES = _env.get_template('js_resources.html')\n" + LAZY_TEMPLATES))),
    # pn.cache's hash table named unittest.mock.Mock by its class, importing unittest (and
    # argparse) with every page; the table also matches types by their qualified name
    LazyRewrite("panel", PANEL_VERSION, "panel/io/cache.py",
                "34c2b7bbe428190d2574fb229961ef60dc3892e5863ee7501ed63666cede8405", (),
                replace=(("import unittest.mock\n", ""),
                         ("    unittest.mock.Mock : lambda", "    'unittest.mock.Mock' : lambda"))),
)


def apply(tree: Path, name: str, version: str, rewrites: tuple[LazyRewrite, ...] = REWRITES,
          log=print) -> list[str]:
    """Rewrite the files of distribution `name` unpacked in `tree`; returns their paths.
    BuildError if the version or a file differs from what a rewrite was written for."""
    done = []
    for rw in rewrites:
        if rw.package != name:
            continue
        if version != rw.version:
            raise BuildError(f"pyodide_build/trim.py rewrites {rw.path} of {name} {rw.version}, "
                             f"but the build vendors {name} {version}: check that the rewrite "
                             "still holds and update trim.REWRITES (path, sha256, modules)")
        path = tree / rw.path
        data = path.read_bytes()
        have = hashlib.sha256(data).hexdigest()
        if have != rw.sha256:
            raise BuildError(f"{rw.path} in {name} {version} is not the file "
                             f"pyodide_build/trim.py was written for (sha256 {have}, expected "
                             f"{rw.sha256}): review the rewrite and update trim.REWRITES")
        where = f"{name}: {rw.path}"
        text = data.decode("utf-8")
        if rw.replace:
            text = replaced_source(text, rw.replace, where)
        elif rw.plain:
            text = deferred_import_source(text, rw.plain, where)
        else:
            text = lazy_source(text, rw.modules, where, rw.epilogue)
        path.write_text(text, encoding="utf-8")
        done.append(rw.path)
    if done:
        log(f"deferred imports in {name}: {', '.join(done)} (pyodide_build/trim.py)")
    return done
