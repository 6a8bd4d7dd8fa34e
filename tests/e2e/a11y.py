"""The pages the accessibility and phone-layout tests visit (names of the `seeded_store` fixture's
paths), and axe-core run in the page."""
from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

BLOCKING = ("serious", "critical")
DASHBOARD_PAGES = ["home", "products", "new product", "product with many variants", "product with an image",
                   "collections", "new collection", "manual collection", "automated collection", "reviews", "launches",
                   "launch", "inventory", "locations", "imports", "import job", "staff", "domains", "settings",
                   "shipping", "shipping zone", "shipping rate", "taxes", "tax rate", "discounts", "discount", "orders",
                   "order", "webhooks", "webhook", "failed jobs",
                   "online store", "customizer", "theme templates", "theme template", "static pages",
                   "new static page", "static page", "account", "new store"]
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
