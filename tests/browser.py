"""Open an HTML page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright)
and measure what a reader would see: images loaded, elements wider than the page, requests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    """The Chromium executable, or skip the test saying how to get one."""
    path = os.environ.get("SFONE_CHROMIUM") or shutil.which("chromium") or shutil.which(
        "chromium-browser")
    if not path:
        pytest.skip("no Chromium found (apt-get install -y chromium, or set SFONE_CHROMIUM); "
                    ".ci/run installs it")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed "
                        "(pip install playwright; it drives the system Chromium)")
    return path


_OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 0.5)
    .map(e => e.tagName + (e.id ? '#' + e.id : '') + ' right=' + e.getBoundingClientRect().right);
}"""
_IMAGES_JS = """() => [...document.images].map(i => ({alt: i.alt, complete: i.complete,
  natural: i.naturalWidth, width: i.getAttribute('width'),
  shown: i.getBoundingClientRect().width}))"""


def render(page_path: Path, *, width: int = 1400, height: int = 900) -> dict:
    """Load ``page_path`` and return images, overflowing elements, the document's scroll width
    and every request other than the page itself (data: URLs excluded)."""
    from playwright.sync_api import sync_playwright

    page_url = Path(page_path).resolve().as_uri()
    requests = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})

            def route(r):
                url = r.request.url
                if url != page_url and not url.startswith("data:"):
                    requests.append(url)
                    return r.abort()
                return r.continue_()

            page.route("**/*", route)
            page.goto(page_url, wait_until="load")
            return {"images": page.evaluate(_IMAGES_JS),
                    "overflow": page.evaluate(_OVERFLOW_JS),
                    "scroll_width": page.evaluate("document.documentElement.scrollWidth"),
                    "client_width": page.evaluate("document.documentElement.clientWidth"),
                    "requests": requests}
        finally:
            browser.close()
