"""pyodide_build/adopt.py: the worker's document put into Panel's prerendered page."""
from __future__ import annotations

import html
import json
import re

import pytest

from pyodide_build import adopt
from pyodide_build.errors import BuildError


def doc_json(docid: str, roots: list[tuple[str, str]], text: str) -> str:
    return json.dumps({docid: {"version": "3.9.2", "title": "t", "roots": [
        {"type": "object", "name": name, "id": rid, "attributes": {"text": text}} for rid, name in roots]}})


def page(docs: str, docid: str, roots: list[str]) -> str:
    items = [{"docid": docid, "roots": {r: f"el-{k}" for k, r in enumerate(roots)}, "root_ids": roots}]
    divs = "".join(f'<div id="el-{k}" data-root-id="{r}" style="display: contents;"></div>\n'
                   for k, r in enumerate(roots))
    return (f"<html><body>{divs}"
            f'<script type="application/json" id="p9">\n{html.escape(docs, quote=False)}\n</script>\n'
            "<script>\nconst docs_json = document.getElementById('p9').textContent;\n"
            f"const render_items = {json.dumps(items)};\n"
            "root.Bokeh.embed.embed_items(docs_json, render_items);\n</script></body></html>")


OLD = page(doc_json("old-doc", [("p1", "Column"), ("p2", "Location")], "cpython"), "old-doc", ["p1", "p2"])


def test_embed_replaces_the_document_and_points_the_roots_at_the_new_ids():
    new = doc_json("new-doc", [("p5", "Column"), ("p6", "Location")], "<b>pyodide</b>")
    out = adopt.embed(OLD, adopt.Document("f" * 64, new, ["p5", "p6"]))
    block = re.search(r'<script type="application/json" id="p9">(.*?)</script>', out, re.S).group(1)
    assert "<b>" not in block                                  # escaped inside the HTML
    assert json.loads(html.unescape(block)) == json.loads(new)
    items = json.loads(re.search(r"const render_items = (\[.*?\]);", out).group(1))
    assert items == [{"docid": "new-doc", "roots": {"p5": "el-0", "p6": "el-1"}, "root_ids": ["p5", "p6"]}]
    assert re.findall(r'data-root-id="([^"]+)"', out) == ["p5", "p6"]


def test_embed_swaps_ids_that_overlap():
    new = doc_json("new-doc", [("p2", "Column"), ("p1", "Location")], "x")
    out = adopt.embed(OLD, adopt.Document("f" * 64, new, ["p2", "p1"]))
    assert re.findall(r'<div id="(el-\d)" data-root-id="([^"]+)"', out) == [("el-0", "p2"), ("el-1", "p1")]


def test_embed_refuses_other_roots():
    new = doc_json("new-doc", [("p5", "Column"), ("p6", "BrowserInfo")], "x")
    with pytest.raises(BuildError, match="roots differ"):
        adopt.embed(OLD, adopt.Document("f" * 64, new, ["p5", "p6"]))


def test_links_pragma_is_a_line_of_its_own():
    assert adopt.links_adoptable("import panel\n# pyodide_build: adopt-links\n")
    assert not adopt.links_adoptable("import panel\nx = 1  # pyodide_build: adopt-links\n")
    assert not adopt.links_adoptable("import panel\n")
    assert adopt.config("a" * 64, True)["links"] is True
