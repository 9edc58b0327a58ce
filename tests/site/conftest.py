"""Fixtures of the site tests: the site built from the bundled data, and Debian's Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from sitetest import CHROMIUM, build, copy_data


@pytest.fixture(scope="session")
def bundled_site(tmp_path_factory) -> Path:
    """The site built from a copy of the bundled data/, with no site_url (as `mkdocs build` does by default)."""
    base = tmp_path_factory.mktemp("bundled")
    site = base / "site"
    build(copy_data(base / "data"), site)
    return site


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/setup.sh --test` (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                                    "--disable-gpu", "--no-first-run", "--disable-sync"])
        yield b
        b.close()
