"""The API's docs page in a real browser (headless Chromium): Swagger UI starts under the
app's CSP (no inline script or style allowed), from our own origin, and lists the operations.
Select with ``-m browser``; it runs in the normal suite."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from .test_portal_browser import browser, live_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_the_docs_page_renders_the_description_under_the_csp(app, world, browser, live_server):  # noqa: F811
    browser.get(f"{live_server}/api/v1/docs")
    title = browser.find_element(By.CSS_SELECTOR, ".swagger-ui .info .title")
    assert title.text.startswith("pakn API")
    summaries = {e.text for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert "/api/v1/cases/{code}/actions/forward" in summaries and "/api/v1/answers" in summaries
    # Everything came from our own origin (Swagger UI loaded, nothing blocked or fetched elsewhere).
    urls = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert urls and all(u.startswith(live_server) for u in urls)
