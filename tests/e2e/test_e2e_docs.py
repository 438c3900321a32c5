"""README screenshots: the default view with Conv2 selected, desktop and phone.

Writes docs/screenshot-desktop.png (1280×900, full page) and docs/screenshot-phone.png
(390×844 viewport) only when DOCS_SCREENSHOTS=1:

    DOCS_SCREENSHOTS=1 python -m pytest tests/e2e/test_e2e_docs.py

Each file is kept under 400 KB (palette-quantised; a very long page is clipped).
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from e2e_support import assert_card, expected_layers, layer_button, wait_ready

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(os.environ.get("DOCS_SCREENSHOTS") != "1",
                                 reason="set DOCS_SCREENSHOTS=1 to regenerate docs/screenshot-*.png")]

DOCS = Path(__file__).resolve().parents[2] / "docs"
MAX_BYTES = 400_000
CONV2 = next(layer for layer in expected_layers() if layer.name == "Conv2")


def compact_png(png: bytes, max_bytes: int = MAX_BYTES) -> bytes:
    """The PNG as taken when it is small enough; else quantised to 256 colours (exact for flat UI
    colours, which are far fewer), clipped at the bottom if still too big."""
    from PIL import Image

    if len(png) <= max_bytes:
        return png
    image = Image.open(io.BytesIO(png)).convert("RGB")
    while True:
        out = io.BytesIO()
        image.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
            out, format="PNG", optimize=True)
        if out.tell() <= max_bytes or image.height < 400:
            return out.getvalue()
        image = image.crop((0, 0, image.width, int(image.height * 0.85)))


def shoot(page, url: str, path: Path, *, full_page: bool) -> int:
    page.goto(url + "#layer=Conv2")
    wait_ready(page)
    expect(layer_button(page, "Conv2")).to_have_attribute("aria-pressed", "true")
    assert_card(page, CONV2)
    page.mouse.move(0, 0)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(500)  # let fonts and the canvas settle
    data = compact_png(page.screenshot(full_page=full_page, animations="disabled"))
    path.write_bytes(data)
    return len(data)


def test_write_docs_screenshots(new_page, server_url: str) -> None:
    DOCS.mkdir(exist_ok=True)
    desktop = new_page(viewport={"width": 1280, "height": 900})
    size = shoot(desktop, server_url, DOCS / "screenshot-desktop.png", full_page=True)
    assert size <= MAX_BYTES
    # Laid out at the phone's width. (is_mobile would also honour <meta name="viewport">, which the
    # desktop server's page does not have yet: it would show a zoomed-out 980 px layout.)
    phone = new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, has_touch=True)
    size = shoot(phone, server_url, DOCS / "screenshot-phone.png", full_page=False)
    assert size <= MAX_BYTES
