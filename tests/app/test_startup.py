"""What building the page costs in Python, checked as facts rather than timings
(docs/design.md §5; the timings are in bench/site_load.py and bench/live_build.py)."""
from __future__ import annotations

import dataclasses
import subprocess
import sys

FIRST_USE = ("bokeh.plotting", "numpy.random", "explorer.importer")


def test_building_the_page_skips_the_modules_of_first_use() -> None:
    """bokeh.plotting and numpy.random cost about 0.2-0.3 s each of the Pyodide start-up, the
    importer of pasted models ~0.1 s; the feature maps and a pasted model (first use) may."""
    code = ("import sys; from explorer.app.page import Explorer; Explorer(live=True); "
            f"print([m for m in {FIRST_USE!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_dataclass_of_the_page_has_a_docstring() -> None:
    """@dataclass gives a class without a docstring one made from inspect.signature(cls): 28
    of them were ~0.08 s of importing the explorer in Pyodide. Ours say what they hold."""
    from explorer.app.page import Explorer

    Explorer(live=True)
    missing = [f"{name}.{k}" for name, module in sorted(sys.modules.items()) if name.startswith("explorer")
               for k, v in vars(module).items()
               if isinstance(v, type) and dataclasses.is_dataclass(v) and v.__module__ == name
               and (v.__doc__ or "").startswith(v.__name__ + "(")]     # dataclasses' stand-in
    assert missing == []
