"""The prerendered document is the live one: build it in the site's own Pyodide.

The page's worker builds the app's default document (the URL fragment is applied by the
page's own client callbacks, then sent to Python as changes). Bokeh numbers its models with
a counter ("p1234") once `simple_ids` is on, so the same interpreter, wheels and script give
the same document, model id for model id. The builder runs the built site under Node exactly
as the worker does (`PREPARE`, the script, `FINGERPRINT`, Panel's `write_doc`), and the page
embeds *that* document instead of the CPython prerender's. In the browser the worker compares
its own fingerprint with the build's: equal, the page keeps its BokehJS document and sends
Python what changed while it was static ("adopt", loader.js); different, the worker serialises
its document and the page renders it as before (docs/design.md §5).
"""
from __future__ import annotations

import dataclasses
import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .errors import BuildError

NODE_TIMEOUT = 300

# Panel's init_doc() with Bokeh's counter ids: init_doc turns simple ids off (UUIDs differ on
# every run), so the switch is held for the call and turned on before the Document exists.
# No page location is set: the build has none, and the page sends its own afterwards.
PREPARE = """
import os
from bokeh.settings import settings as _cnn_bks
from panel.io.pyodide import init_doc
_cnn_bks.simple_ids.set_value(True)
_cnn_bks.simple_ids.set_value = lambda value: None
try:
    init_doc()
finally:
    del _cnn_bks.simple_ids.set_value
os.environ["CNN_EXPLORER_URL_HASH"] = ""
os.environ["CNN_EXPLORER_URL_SEARCH"] = ""
"""

# sha256 of the document's title and its models as sorted (id, type, name): a model made more
# or less, in another order, or a Panel object numbered differently (its name) changes it.
# Computed after the script, before serialising: a few ms, where serialising takes ~0.15 s.
FINGERPRINT = """
import hashlib as _cnn_h, json as _cnn_j
from panel.io.state import state as _cnn_state
_cnn_doc = _cnn_state.curdoc
_cnn_h.sha256(_cnn_j.dumps([_cnn_doc.title, sorted(
    [m.id, m.__qualified_model__, m.name or ""] for m in _cnn_doc.models)]).encode()).hexdigest()
"""

# What write_doc() does besides serialising: the document no longer pretends to be a session,
# and every model counts as sent (the page has them all), so later patches refer to models by
# id: without it, the first patch carried the whole document (0.3 s in Node, at the link).
RELEASE = """
from panel.io.state import state as _cnn_state
_cnn_state.curdoc._session_context = None
_cnn_state.curdoc.models.flush_synced()
"""

RUN = """
_cnn_ns = {"__name__": "__main__", "__file__": _cnn_entry_name}
exec(compile(_cnn_entry_source, _cnn_entry_name, "exec"), _cnn_ns)
"""

NODE_SCRIPT = r"""
import fs from "node:fs";
const { loadPyodide } = await import(%(mjs)s);
globalThis.XMLHttpRequest ??= class XMLHttpRequest {};   // panel.io.pyodide imports it
const CONFIG = JSON.parse(fs.readFileSync(%(config)s, "utf8"));
const idx = %(index)s;
const py = await loadPyodide({
  indexURL: idx, lockFileURL: idx + "pyodide-lock.json", packageBaseUrl: idx,
  packages: CONFIG.packages.concat((CONFIG.pure || []).map((w) => w.name)),
  env: CONFIG.env, args: CONFIG.args, stdout: () => {}, stderr: (s) => console.error(s) });
for (const step of CONFIG.imports) await py.runPythonAsync(step.code);
py.globals.set("_cnn_entry_name", CONFIG.entry.name);
py.globals.set("_cnn_entry_source", CONFIG.entry.source);
await py.runPythonAsync(CONFIG.adopt.prepare);
await py.runPythonAsync(%(run)s);
const fingerprint = await py.runPythonAsync(CONFIG.adopt.fingerprint);
const r = await py.runPythonAsync("from panel.io.pyodide import write_doc\nawait write_doc()");
const [docs_json, render_items, root_ids] = r.toJs();
const after = await py.runPythonAsync(CONFIG.adopt.fingerprint);
console.log(JSON.stringify({ fingerprint, after, docs_json, render_items, root_ids }));
"""


@dataclasses.dataclass
class Document:
    """The document the site's worker builds for the default page, as the build saw it."""
    fingerprint: str
    docs_json: str       # Panel's write_doc() output: {docid: document JSON}
    root_ids: list[str]


# An app script whose page applies the URL fragment itself (client callbacks that select and
# hide from `#layer=…&hide=…`, as the explorer's on_ready.js does) says so with this line; its
# links are adopted too. Otherwise only a page without a fragment is: the script would have
# seen the fragment, and the build's document did not.
LINKS_PRAGMA = re.compile(r"^# pyodide_build: adopt-links\s*$", re.MULTILINE)


def links_adoptable(entry_source: str) -> bool:
    return LINKS_PRAGMA.search(entry_source) is not None


def config(fingerprint: str | None, links: bool = False) -> dict:
    """The worker's CONFIG.adopt: the Python it runs, the fingerprint it must find, and
    whether a page with a URL fragment (other than arch=) may adopt too."""
    return {"prepare": PREPARE, "fingerprint": FINGERPRINT, "release": RELEASE,
            "expected": fingerprint, "links": links}


def build_document(core: Path, site: Path, worker_config: dict) -> Document:
    """Run the built site's app in its own Pyodide under Node, as the page's worker does."""
    node = shutil.which("node")
    if node is None:
        raise BuildError("node is not installed (needed to build the live document)")
    with tempfile.TemporaryDirectory(prefix="adopt-") as tmp:
        cfg = Path(tmp) / "config.json"
        cfg.write_text(json.dumps(worker_config), encoding="utf-8")
        script = Path(tmp) / "adopt.mjs"
        script.write_text(NODE_SCRIPT % {
            "mjs": json.dumps((core / "pyodide.mjs").as_uri()),
            "config": json.dumps(str(cfg)),
            "index": json.dumps(str(site / "pyodide") + "/"),
            "run": json.dumps(RUN),
        }, encoding="utf-8")
        try:
            proc = subprocess.run([node, str(script)], capture_output=True, text=True, check=False,
                                  cwd=tmp, timeout=NODE_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise BuildError(f"building the live document under Node took over {NODE_TIMEOUT} s") from None
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise BuildError("building the live document under Node failed:\n" + proc.stderr.strip()[-1500:])
    out = json.loads(lines[-1])
    if out["after"] != out["fingerprint"]:
        raise BuildError("serialising the document changed its models (fingerprint "
                         f"{out['fingerprint'][:12]} before, {out['after'][:12]} after)")
    return Document(out["fingerprint"], out["docs_json"], json.loads(out["root_ids"]))


DOCS_RE = re.compile(r'(<script type="application/json" id="[^"]+">)(.*?)(</script>)', re.DOTALL)
ITEMS_RE = re.compile(r"(const render_items = )(\[.*?\])(;\n)", re.DOTALL)


def _roots(doc_json: dict) -> list[tuple[str, str]]:
    return [(r["id"], r["name"]) for r in doc_json["roots"]]


def embed(raw_html: str, doc: Document) -> str:
    """Panel's prerendered page with `doc` in place of the CPython prerender's document.

    Everything else (template, resources, the embed script) stays; the render items point
    the same root elements at the new ids. The roots must be of the same types in the same
    order, else BuildError (the caller then keeps the prerender and the page renders).
    """
    found = DOCS_RE.findall(raw_html)
    if len(found) != 1:
        raise BuildError(f"Panel's page changed shape: {len(found)} document JSON blocks, expected 1")
    old = json.loads(html.unescape(found[0][1]))
    new = json.loads(doc.docs_json)
    if len(old) != 1 or len(new) != 1:
        raise BuildError("expected one document in the prerendered page and in the live one")
    (old_id, old_doc), = old.items()
    (new_id, new_doc), = new.items()
    old_roots, new_roots = _roots(old_doc), _roots(new_doc)
    if [t for _, t in old_roots] != [t for _, t in new_roots]:
        raise BuildError("the live document's roots differ from the prerendered page's: "
                         f"{[t for _, t in new_roots]} vs {[t for _, t in old_roots]}")
    rename = {o: n for (o, _), (n, _) in zip(old_roots, new_roots)}
    items_m = ITEMS_RE.search(raw_html)
    if items_m is None:
        raise BuildError("Panel's page changed shape: prerender render_items not found")
    items = json.loads(items_m.group(2))
    if len(items) != 1 or items[0].get("docid") != old_id:
        raise BuildError("Panel's page changed shape: render_items do not name the document")
    items[0]["docid"] = new_id
    items[0]["roots"] = {rename[k]: v for k, v in items[0]["roots"].items()}
    items[0]["root_ids"] = [rename[k] for k in items[0]["root_ids"]]
    text = DOCS_RE.sub(lambda m: m.group(1) + "\n" + html.escape(doc.docs_json, quote=False) + "\n"
                       + m.group(3), raw_html, count=1)
    text = ITEMS_RE.sub(lambda m: m.group(1) + json.dumps(items, separators=(",", ":")) + m.group(3),
                        text, count=1)
    for o, n in rename.items():
        text = text.replace(f'data-root-id="{o}"', f'data-root-id="\x00{n}"')
    return text.replace('data-root-id="\x00', 'data-root-id="')
