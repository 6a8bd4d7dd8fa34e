"""Security headers: a strict CSP and no framing for the platform and the
dashboard, a CSP suited to themes on storefronts, hardening headers everywhere."""
from app.security import DATA_CSP, PLATFORM_CSP, STOREFRONT_CSP


def test_the_platform_and_the_dashboard_get_a_strict_policy_and_cannot_be_framed(merchant):
    browser, _, store = merchant
    for path in ("/", "/login", f"/dashboard/{store.handle}/products"):
        response = browser.get(path)
        assert response.status_code == 200, path
        csp = response.headers["Content-Security-Policy"]
        assert csp == PLATFORM_CSP and "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_storefronts_get_a_policy_for_themes_and_data_gets_none_at_all(app, client, make_store):
    store = make_store()
    page = client.get("/", host=f"{store.handle}.localhost")
    psp = app.config["STRIPE_API_BASE"]  # the checkout's card form talks to the PSP's API, and only there
    assert page.headers["Content-Security-Policy"] == STOREFRONT_CSP.replace("connect-src 'self'",
                                                                             f"connect-src 'self' {psp}")
    assert "script-src 'self';" in STOREFRONT_CSP and "X-Frame-Options" not in page.headers
    api = client.get("/api/v1/products", host=f"{store.handle}.localhost")
    assert api.headers["Content-Security-Policy"] == DATA_CSP
    unknown = client.get("/", host="bad host")
    assert unknown.status_code == 400 and unknown.headers["Content-Security-Policy"] == PLATFORM_CSP


def test_no_template_carries_inline_script_or_style(project_root):
    """What the strict policy would block, caught before a browser does: event-handler
    attributes, inline <script>/<style> blocks and style attributes."""
    import re

    offending = re.compile(r"""\son[a-z]+\s*=|<script(?![^>]*\bsrc=)[^>]*>|<style[\s>]|\sstyle\s*=""", re.I)
    found = [f"{path.relative_to(project_root)}: {match.group(0).strip()}"
             for path in (project_root / "app" / "templates").rglob("*.html")
             for match in offending.finditer(path.read_text())]
    assert found == []
