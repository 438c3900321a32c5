"""The app's first document is the same on every run, value for value.

The live page adopts the document the build made (pyodide_build/adopt.py, docs/design.md §5)
when the worker's model ids, types and names match the build's: a cheap fingerprint that is
sound only if everything else (data, text, ranges, styles) follows from them, i.e. the first
document depends on no clock, no randomness and no hash order. Here the app script is run in
two interpreters with different string-hash seeds, as Pyodide's differ from visit to visit,
and the two documents must serialise to the same bytes.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# entry.py under a document that stands for the worker's (Bokeh's counter ids, a session
# context as Panel's init_doc gives it), printing the serialised document.
BUILD = """
import sys
from bokeh.settings import settings
settings.simple_ids.set_value(True)
from bokeh.core.json_encoder import serialize_json
from bokeh.document import Document
from panel.io.document import MockSessionContext
from panel.io.state import set_curdoc
doc = Document()
doc._session_context = lambda: MockSessionContext(document=doc)
source = open(sys.argv[1], encoding="utf-8").read()
with set_curdoc(doc):
    exec(compile(source, sys.argv[1], "exec"), {"__name__": "__main__"})
print(serialize_json(doc.to_json()))
"""


def _build(seed: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.Popen([sys.executable, "-c", BUILD, str(ROOT / "explorer" / "app" / "entry.py")],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _models(doc_json: str) -> dict[str, str]:
    """id -> that model's JSON, for saying which model differs."""
    out: dict[str, str] = {}

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "id" in node:
                out[node["id"]] = json.dumps(node, sort_keys=True)[:400]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(json.loads(doc_json))
    return out


def test_the_first_document_does_not_depend_on_the_run():
    runs = [_build(seed) for seed in ("1", "2")]
    docs = []
    for proc in runs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        docs.append(out.strip())
    a, b = docs
    assert json.loads(a)["roots"], "the app script made no document"
    if a != b:
        ma, mb = _models(a), _models(b)
        differ = [i for i in sorted(ma.keys() | mb.keys()) if ma.get(i) != mb.get(i)]
        if differ:
            raise AssertionError(f"{len(differ)} models differ between two runs, the first:\n"
                                 f"{ma.get(differ[0])}\n{mb.get(differ[0])}")
        ta, tb = json.loads(a), json.loads(b)
        keys = [k for k in sorted(ta.keys() | tb.keys()) if ta.get(k) != tb.get(k)]
        raise AssertionError(f"the document's {keys} differ between two runs: "
                             f"{str(ta.get(keys[0]))[:300]} != {str(tb.get(keys[0]))[:300]}")
