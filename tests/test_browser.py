"""The document viewer and /docs in a real browser: headless Chromium (Debian's
package) driven by Playwright. CI installs Chromium and sets REQUIRE_BROWSER=1 so the
test cannot be skipped there; the screenshot is kept in artifacts/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import scratch_database
from tests.live import ROOT, live_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _need_browser():
    missing = not Path(CHROMIUM).exists()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = True
    if missing:
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail("Chromium and Playwright are required here (REQUIRE_BROWSER=1)")
        pytest.skip("needs Debian's chromium and the playwright package")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _need_browser()
    tmp = tmp_path_factory.mktemp("browser")
    with scratch_database(tmp) as url, live_server(url, tmp, workers=1) as live:
        from sqlalchemy.orm import Session

        from service.app import create_app
        from service.paths import project_directory
        from service.services.corpus import MANIFEST, import_folder

        app = create_app({"DATABASE_URL": url, "AUTH_MODE": "none"})
        engine = app.extensions["db"].engine
        with Session(engine) as session:
            (report,) = import_folder(session, project_directory("seeds", MANIFEST), actor="seed")
            session.commit()
        engine.dispose()
        yield live, report.document_id


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        yield page
        browser.close()


def test_the_seed_article_is_highlighted_and_links_light_up(server, page):
    live, document_id = server
    base = f"http://127.0.0.1:{live.port}"
    api_count = len(live.client().all_items(f"/v1/documents/{document_id}/annotations"))
    page.goto(f"{base}/ui/documents/{document_id}")
    shown = page.eval_on_selector_all(
        ".seg", "els => new Set(els.flatMap(e => e.dataset.ids.split(' '))).size"
    )
    assert shown == api_count == 150

    speakers = live.client().all_items(f"/v1/links?document_id={document_id}&type=speaker")
    link = speakers[0]
    quote = page.locator(f'.seg[data-ids~="{link["source_id"]}"]').first
    quote.hover()
    speaker_segment = page.locator(f'.seg[data-ids~="{link["target_id"]}"]').first
    assert "linked" in speaker_segment.get_attribute("class")
    tip = page.locator("#tip")
    assert tip.is_visible()
    assert "quote" in tip.inner_text()
    assert "speaker" in tip.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "seed-article.png"))


def test_filters_hide_a_type(server, page):
    live, document_id = server
    page.goto(f"http://127.0.0.1:{live.port}/ui/documents/{document_id}")
    page.uncheck('input[data-type="entity"]')
    assert "hide-entity" in page.locator("#text").get_attribute("class")


def test_the_document_list_counts_annotations_by_type(server, page):
    live, _ = server
    page.goto(f"http://127.0.0.1:{live.port}/ui/?q=kremlin")
    item = page.locator(".documents li").first
    assert "North Korean soldiers" in item.inner_text()
    assert "16 quotes" in item.inner_text()


def test_docs_list_the_operations_offline(server, page):
    live, _ = server
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"http://127.0.0.1:{live.port}/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    operations = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/v1/documents/{document_id}/annotations" in text for text in operations)
    assert all(url.startswith(f"http://127.0.0.1:{live.port}") for url in requests), "no CDN"
