"""Citations of the design document (`docs/design.md §N`) point at sections that exist.

Code and tests cite the design document by section; renumbering or dropping a section
without updating them would leave readers at the wrong place, so this checks every citation.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "design.md"
CITATION = re.compile(r"docs/design\.md (§[\d–\-, §]+)")
SOURCES = ("explorer", "pyodide_build", "tests", "bench")


def sections() -> set[int]:
    return {int(m) for m in re.findall(r"^## (\d+)\. ", DOC.read_text(encoding="utf-8"), re.M)}


def citations() -> list[tuple[str, int]]:
    found = []
    for top in SOURCES:
        for path in (ROOT / top).rglob("*"):
            if path.suffix not in {".py", ".js", ".md"} or "__pycache__" in path.parts:
                continue
            for match in CITATION.finditer(path.read_text(encoding="utf-8")):
                for number in re.findall(r"\d+", match.group(1)):
                    found.append((f"{path.relative_to(ROOT)}", int(number)))
    return found


def test_the_design_document_has_numbered_sections() -> None:
    assert {1, 2, 3, 4, 5, 6, 7, 8, 9} <= sections()


def test_every_citation_names_an_existing_section() -> None:
    cited = citations()
    assert cited, "expected the code to cite docs/design.md"
    missing = [(path, n) for path, n in cited if n not in sections()]
    assert not missing, f"citations of sections that do not exist: {missing}"


def test_no_citation_of_a_design_file_outside_the_repository() -> None:
    stale = [str(p.relative_to(ROOT)) for top in SOURCES for p in (ROOT / top).rglob("*.py")
             if p.name != Path(__file__).name and re.search(r"(?<!docs/)DESIGN\.md", p.read_text(encoding="utf-8"))]
    assert not stale, f"these cite DESIGN.md, which is not in the repository; cite docs/design.md: {stale}"
