"""Bring your own model on the desktop server: torchvision's ResNet-18 print-out, pasted and imported.

The text is what `print(torchvision.models.resnet18())` shows, made here from torchvision itself;
every expected number comes from the torch model (docs/design.md §7, issue 10 item 8). The static
export has no Python, so the import box is tested where Python runs: the desktop server.
"""
from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from e2e_support import card, wait_ready

pytestmark = [pytest.mark.e2e, pytest.mark.torch]

DOWNSAMPLE = "layer2.0.downsample.0"
MODEL_BOX = "What print(model) shows, or an nn.Sequential(...) expression"
# What the brief names as ResNet-18's top level (the importer adds the Input row and the
# flatten that torchvision's forward() does between avgpool and fc).
TOP = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc")


@pytest.fixture(scope="module")
def resnet18() -> Any:
    """torchvision's ResNet-18 (random weights); skipped when torch or torchvision is missing."""
    torch = pytest.importorskip("torch", reason="torch is not installed (the `test` extra's torch)")
    register_fake = torch.library.register_fake
    torch.library.register_fake = lambda *a, **k: (lambda f: f)   # its compiled ops are not needed
    try:
        models = pytest.importorskip("torchvision.models",
                                     reason="torchvision is not installed (pip install --no-deps torchvision)")
    finally:
        torch.library.register_fake = register_fake
    return models.resnet18()


def treeitem(page: Page, name: str):
    return page.get_by_role("treeitem", name=name, exact=True)


def card_rows(page: Page) -> dict[str, str]:
    return card(page).evaluate("""(el) => Object.fromEntries(Array.from(el.querySelectorAll('dt')).map(
        dt => [dt.textContent.trim(), dt.nextElementSibling.firstChild.textContent.trim()]))""")


def visible_items(page: Page) -> list[str]:
    """Accessible names of the tree items on screen, in order (names are held in hidden spans)."""
    return page.evaluate("""() => { const out = [];
        (function walk(root) {
          for (const el of root.querySelectorAll('[role="treeitem"]')) {
            if (el.offsetParent === null) continue;
            const id = el.getAttribute('aria-labelledby');
            out.push(id ? el.getRootNode().getElementById(id).textContent : el.getAttribute('aria-label'));
          }
          for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
        })(document);
        return out; }""")


def test_a_pasted_torchvision_resnet18_is_imported_drawn_collapsed_and_counted(
        page: Page, server_url: str, resnet18: Any) -> None:
    from explorer.analysis import analyse
    from explorer.importer import import_model
    text = str(resnet18)
    total = sum(p.numel() for p in resnet18.parameters())
    downsample = sum(p.numel() for p in resnet18.get_submodule(DOWNSAMPLE).parameters())
    assert downsample == 64 * 128 * 1 * 1
    imported, notes = import_model(text, (3, 224, 224), name="Imported model")
    top = ["Input", *(node.name for node in imported.layers)]
    assert set(TOP) <= set(top) and notes

    page.goto(server_url)
    wait_ready(page, timeout=60_000)
    page.get_by_role("button", name="Bring your own PyTorch model").click()
    box = page.get_by_label(MODEL_BOX, exact=True)
    expect(box).to_be_visible()
    box.fill(text)
    size = page.get_by_label("Input size (C×H×W)", exact=True)
    size.fill("3x224x224")
    size.press("Tab")
    page.get_by_role("button", name="Load this model").click()

    # The import's notes are shown, and the network is torchvision's, counted the same.
    cell = page.locator("tfoot td[data-total]")
    expect(cell).to_have_attribute("data-total", str(total), timeout=60_000)
    assert analyse(imported).total_params == total
    shown = page.get_by_role("status").filter(has_text="What the import assumed")
    expect(shown).to_be_visible()
    for note in notes:
        expect(shown).to_contain_text(note)
    expect(page.get_by_role("alert")).to_have_count(0)

    # Drawn collapsed: the top level only, every block closed.
    expect(treeitem(page, "layer1")).to_be_visible()
    assert visible_items(page) == top
    for name in ("layer1", "layer2", "layer3", "layer4"):
        expect(treeitem(page, name)).to_have_attribute("aria-expanded", "false")
    expect(treeitem(page, "layer2.0")).to_be_hidden()

    # Open layer2 and its blocks down to the projection shortcut; its card shows torch's count.
    for name in ("layer2", "layer2.0", "layer2.0.downsample"):
        treeitem(page, name).locator(":scope > .cnnx-ti").click()
        expect(treeitem(page, name)).to_have_attribute("aria-expanded", "true")
    treeitem(page, DOWNSAMPLE).locator(":scope > .cnnx-ti").click()
    expect(card(page).locator("h2")).to_have_text(DOWNSAMPLE)
    assert card_rows(page)["Parameters"] == f"{downsample:,}"
    expect(treeitem(page, DOWNSAMPLE)).to_have_attribute("aria-selected", "true")
