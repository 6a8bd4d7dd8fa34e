"""Accessibility in the browser: axe-core over every dashboard and platform
page (and the pages a refused form gives back), the skip link, and focus on
the error summary of a refused form."""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

BLOCKING = ("serious", "critical")
DASHBOARD_PAGES = ["home", "products", "new product", "product with many variants", "product with an image",
                   "collections", "new collection", "manual collection", "automated collection", "inventory",
                   "locations", "imports", "import job", "staff", "domains", "settings", "account", "new store"]
PUBLIC_PAGES = ["platform home", "login", "signup", "reset request", "reset password", "confirm signup",
                "invitation", "not found"]


def axe_problems(page) -> list[str]:
    """axe-core's serious and critical violations on the page, one readable line per element.
    axe's script is evaluated by Playwright (DevTools), which the page's CSP does not govern; the
    page keeps its own policy, so a violation by our own markup still fails the test."""
    results = Axe().run(page)
    lines = []
    for violation in results.response["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        for node in violation["nodes"]:
            lines.append(f"{violation['impact']} {violation['id']} ({violation['help']}): "
                         f"{' '.join(map(str, node['target']))}\n    {node['failureSummary']}\n    {node['html'][:200]}")
    return lines


def _check(page, url: str) -> None:
    page.goto(url)
    problems = axe_problems(page)
    assert not problems, f"axe on {url}:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", DASHBOARD_PAGES)
def test_axe_finds_nothing_serious_on_a_dashboard_page(seeded_store, open_page, name):
    page = open_page(seeded_store.state)
    _check(page, seeded_store.base + seeded_store.pages[name])


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_axe_finds_nothing_serious_on_a_public_page(seeded_store, open_page, name):
    page = open_page()
    _check(page, seeded_store.base + seeded_store.public_pages[name])
