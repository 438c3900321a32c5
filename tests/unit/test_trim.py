"""pyodide_build/trim.py: Panel's package `__init__`s made lazy for the site (docs/design.md §5).

The rewrites are applied to a copy of the installed Panel (the same release the site vendors:
the build checks both) and imported by a fresh interpreter: the deferred modules must not be
imported by `import panel`, and every public name must still resolve to the same object as
in the untouched Panel.
"""
from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pyodide_build import trim
from pyodide_build.errors import BuildError

panel = pytest.importorskip("panel")
PANEL_DIR = Path(panel.__file__).parent

SAMPLE = '''"""doc"""
from param import rx

from . import layout  # noqa
from . import chat, widgets  # noqa
from .pane import (  # noqa
    HTML, Markdown,
)
from .template import Template as T  # noqa
X = 1
'''


def test_lazy_source_defers_only_the_selected_imports():
    out = trim.lazy_source(SAMPLE, (".chat", ".template"), "sample")
    assert "from . import widgets  # noqa" in out
    assert "from . import layout" in out and "from .pane import (" in out
    assert "import chat" not in out and "from .template" not in out
    ns: dict = {}
    exec(compile(out.split(trim.MARK)[1], "tail", "exec"), ns)
    assert ns["_CNNX_LAZY"] == {"chat": (".chat", None), "T": (".template", "Template")}


def test_lazy_source_refuses_what_it_cannot_do_safely():
    with pytest.raises(BuildError, match=r"sample: no top-level import of \.vega"):
        trim.lazy_source(SAMPLE, (".vega",), "sample")
    with pytest.raises(BuildError, match="also its submodule's"):
        trim.lazy_source("from .interact import interact\n", (".interact",), "sample")
    with pytest.raises(BuildError, match="already defines __getattr__"):
        trim.lazy_source(SAMPLE + "def __getattr__(n):\n    pass\n", (".chat",), "sample")


def _copy_panel(dest: Path) -> Path:
    shutil.copytree(PANEL_DIR, dest / "panel",
                    ignore=shutil.ignore_patterns("dist", "tests", "__pycache__", "*.ts",
                                                  "*.less", "*.tsx", "node_modules"))
    return dest


def test_apply_fails_on_another_release_or_a_changed_file(tmp_path):
    root = tmp_path / "site-packages"
    (root / "panel" / "pane").mkdir(parents=True)
    (root / "panel" / "widgets").mkdir(parents=True)
    shutil.copyfile(PANEL_DIR / "__init__.py", root / "panel" / "__init__.py")
    with pytest.raises(BuildError, match=r"panel/__init__\.py of panel 1\.9\.4, but the build "
                                         r"vendors panel 9\.9"):
        trim.apply(root, "panel", "9.9", log=lambda *_: None)
    (root / "panel" / "__init__.py").write_text("from . import chat\n")
    with pytest.raises(BuildError, match=r"panel/__init__\.py in panel 1\.9\.4 is not the file"):
        trim.apply(root, "panel", "1.9.4", log=lambda *_: None)
    assert trim.apply(root, "param", "2.4.2", log=lambda *_: None) == []


PROBE = r"""
import importlib, json, sys
import panel as pn
deferred = sorted(m for m in json.loads(sys.argv[1]) if m in sys.modules)
# what the explorer uses (explorer/app), and a layout built from it
col = pn.Column(pn.pane.HTML("<b>x</b>"), pn.widgets.Button(name="b"), pn.widgets.Select(
    options=["a"]), pn.widgets.TextInput(), pn.widgets.TextAreaInput(), pn.widgets.IntInput(),
    pn.widgets.FloatInput(), pn.widgets.FileInput(), pn.widgets.CheckBoxGroup(options=["c"]),
    pn.widgets.RadioButtonGroup(options=["r"]), pn.Row(), pn.Card(), pn.FlexBox())
col.get_root()
from bokeh.models import Div
from bokeh.plotting import figure
models = [Div(text="d"), figure()]
kinds = [type(pn.panel(m)).__name__ for m in models]       # the explorer's layouts hold these
after_app = sorted(m for m in json.loads(sys.argv[1]) if m in sys.modules)
# pn.panel(obj) chooses among all panes, deferred ones included (the first lookup loads them)
bound = type(pn.panel(pn.bind(lambda x: x, 1))).__name__
# every public name still resolves, to the object its defining module has
missing, wrong = [], []
for pkg in ("panel", "panel.pane", "panel.widgets", "panel.theme"):
    mod = importlib.import_module(pkg)
    for name in mod.__all__:
        try:
            getattr(mod, name)
        except AttributeError:
            missing.append(f"{pkg}.{name}")
checks = {
    "pn.chat.ChatFeed": pn.chat.ChatFeed is importlib.import_module("panel.chat.feed").ChatFeed,
    "pn.widgets.Tabulator": pn.widgets.Tabulator
        is importlib.import_module("panel.widgets.tables").Tabulator,
    "pn.pane.HoloViews": pn.pane.HoloViews
        is importlib.import_module("panel.pane.holoviews").HoloViews,
    "pn.Template": pn.Template is importlib.import_module("panel.template").Template,
    "pn.theme.Material": pn.theme.Material is importlib.import_module("panel.theme.material").Material,
    "pn.param": pn.param is sys.modules["panel.param"],
    "pn.pane.ReactiveExpr": pn.pane.ReactiveExpr is pn.param.ReactiveExpr,
    "pn.panel(bound function)": bound == "ParamFunction",
    "pn.panel(mp4 URL)": type(pn.panel("https://x/a.mp4")).__name__ == "Video",
}
# the server's and `panel convert`'s page templates compile on first use, as the same templates
# (on the desktop panel.io.server asks for them at import; the site strips it)
from jinja2 import Template
import panel.io.resources as res
from panel.io.resources import ERROR_TEMPLATE
checks["templates compile on first use"] = (isinstance(ERROR_TEMPLATE, Template)
    and ERROR_TEMPLATE.name == "error.html" and res.INDEX_TEMPLATE.name == "convert_index.html"
    and res.ERROR_TEMPLATE is ERROR_TEMPLATE and isinstance(res.JS_RESOURCES, Template))
# pn.cache still hashes a Mock by identity (its hash table names the class as text now)
from unittest.mock import Mock
from panel.io.cache import _generate_hash
mock = Mock()
checks["pn.cache hashes a Mock"] = _generate_hash(mock) == _generate_hash(mock) != _generate_hash(Mock())
# no deferred pane would have claimed a Bokeh model (why they may skip loading them)
from panel.pane.base import PaneBase
from param.parameterized import descendents
def applies(p, m):
    try:
        return p.applies(m) if p.priority is None else p.priority and p.applies(m)
    except Exception:
        return False
examined = [p for p in descendents(PaneBase)
            if p.__module__ in json.loads(sys.argv[1]) + ["panel.param"]]
claims = sorted(f"{p.__module__}.{p.__name__}" for p in examined for m in models
                if applies(p, m))
checks["the deferred panes were examined"] = len(examined) >= 15
checks["Bokeh models -> Bokeh pane"] = kinds == ["Bokeh", "Bokeh"]
checks["no deferred pane claims a Bokeh model: " + ", ".join(claims)] = not claims
wrong = [k for k, ok in checks.items() if not ok]
try:
    pn.widgets.NoSuchWidget
    unknown = "no error"
except AttributeError as e:
    unknown = str(e)
print(json.dumps({"file": pn.__file__, "deferred": deferred, "after_app": after_app,
                  "missing": missing, "wrong": wrong, "unknown": unknown}))
"""

DEFERRED = ["panel.chat", "panel.template", "panel.pipeline", "panel.param", "panel.custom",
            "panel.pane.holoviews", "panel.pane.vtk", "panel.pane.plotly", "panel.pane.vega",
            "panel.pane.deckgl", "panel.pane.echarts", "panel.pane.media", "panel.pane.equation",
            "panel.pane.perspective", "panel.pane.streamz", "panel.pane.textual",
            "panel.pane.vizzu", "panel.pane.vtk.vtk", "panel.widgets.tables",
            "panel.widgets.speech_to_text", "panel.widgets.terminal", "panel.widgets.debugger",
            "panel.widgets.codeeditor", "panel.widgets.player", "panel.widgets.file_selector",
            "panel.theme.bootstrap", "panel.theme.fast", "panel.theme.material", "unittest"]


def test_trimmed_panel_imports_less_and_keeps_every_name(tmp_path):
    root = _copy_panel(tmp_path)
    done = trim.apply(root, "panel", panel.__version__, log=lambda *_: None)
    assert done == [rw.path for rw in trim.REWRITES if rw.package == "panel"]
    # in Pyodide, Panel does not import pyodide_http (the site does not ship it), and it is
    # not None, so Panel does not import pandas to patch read_csv instead (panel.io.pyodide
    # imports `js`: checked as source here, run by the build's drill and the site tests)
    tree = ast.parse((root / "panel" / "io" / "pyodide.py").read_text(encoding="utf-8"))
    assert "pyodide_http" not in {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "pyodide_http = False" in [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Assign)]
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(DEFERRED)],
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["file"].startswith(str(root)), got["file"]
    assert got["deferred"] == [], "imported by `import panel` although deferred"
    # rendering asks for the design, whose base module imports panel.custom: deferred from
    # `import panel` to the first render. Nothing else loads (the Bootstrap, Fast and
    # Material designs, which imported Tabulator, wait for their own first use)
    assert got["after_app"] == ["panel.custom"], got["after_app"]
    assert got["missing"] == [] and got["wrong"] == []
    assert got["unknown"] == "module 'panel.widgets' has no attribute 'NoSuchWidget'"


BOKEH_PROBE = r"""
import sys
import bokeh.settings, bokeh.themes.theme
import panel
early = "yaml" in sys.modules
from bokeh.settings import settings
from bokeh.themes import Theme
open("t.yaml", "w").write("attrs:\n  Plot:\n    width: 123\n")
theme = Theme(filename="t.yaml")
settings.load_config("t.yaml")
import bokeh.util.token as token
session = token.generate_session_id()
expiring = token.generate_jwt_token(session, expiration=300)
import time
assert abs(token.get_token_payload(expiring)["session_expiry"] - (time.time() + 300)) < 60   # calendar, on first use
print(bokeh.__file__, early, theme._json["attrs"]["Plot"]["width"], "yaml" in sys.modules, bokeh.__version__)
"""


def test_bokeh_imports_yaml_only_for_yaml_files(tmp_path):
    import bokeh
    root = tmp_path / "site-packages"
    shutil.copytree(Path(bokeh.__file__).parent, root / "bokeh",
                    ignore=shutil.ignore_patterns("static", "sampledata", "sphinxext", "tests",
                                                  "__pycache__"))
    assert trim.apply(root, "bokeh", bokeh.__version__, log=lambda *_: None) == [
        "bokeh/settings.py", "bokeh/themes/theme.py", "bokeh/__init__.py", "bokeh/util/token.py"]
    proc = subprocess.run([sys.executable, "-c", BOKEH_PROBE],
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    where, early, width, late, version = proc.stdout.split()
    assert where.startswith(str(root))
    assert (early, width, late) == ("False", "123", "True")
    assert version == bokeh.__version__ == trim.BOKEH_VERSION     # the literal is the release


def test_replaced_source_needs_each_text_exactly_once():
    assert trim.replaced_source("a = 1\nb = 2\n", (("a = 1", "a = 3"),), "f") == "a = 3\nb = 2\n"
    with pytest.raises(BuildError, match=r"f: expected 'c = 1' exactly once, found it 0 times"):
        trim.replaced_source("a = 1\n", (("c = 1", ""),), "f")
    with pytest.raises(BuildError, match="found it 2 times"):
        trim.replaced_source("a\na\n", (("a", "b"),), "f")


def test_deferred_import_source_needs_the_statement():
    with pytest.raises(BuildError, match="sample: no single top-level `import yaml`"):
        trim.deferred_import_source("import os\nif 1:\n    import yaml\n", "yaml", "sample")
