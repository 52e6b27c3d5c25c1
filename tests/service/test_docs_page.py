"""The API reference at /docs: served from the package, under the app's CSP, offline."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from audioclf.service.app import SECURITY_HEADERS
from audioclf.service.docs_page import ASSET_FILES, ASSETS, INIT_PATH
from tests.service.test_browser import (
    CSP_PROBE,
    TIMEOUT_MS,
    Watched,
    chromium,
    fake_mic_wav,
    server_url,
)

__all__ = ["chromium", "fake_mic_wav", "server_url"]  # fixtures shared with test_browser

REMOTE = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


def test_docs_page_loads_only_same_origin_files(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert REMOTE.search(response.text) is None
    for name in ASSET_FILES:
        assert f'"{ASSETS}/{name}"' in response.text
    assert f'src="{INIT_PATH}"' in response.text
    assert 'data-schema="/openapi.json"' in response.text
    assert "<script>" not in response.text  # no inline script for the CSP to block
    for header, value in SECURITY_HEADERS.items():
        assert response.headers[header] == value


@pytest.mark.parametrize("name", sorted(ASSET_FILES))
def test_docs_assets_are_served_with_their_type(client: TestClient, name: str) -> None:
    response = client.get(f"{ASSETS}/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == ASSET_FILES[name]
    assert "max-age" in response.headers["cache-control"]
    assert len(response.content) > 500
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_init_script_starts_on_own_schema_without_the_remote_validator(
    client: TestClient,
) -> None:
    response = client.get(INIT_PATH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "validatorUrl: null" in response.text
    assert "http" not in response.text


def test_only_the_pages_files_of_the_bundle_are_exposed(client: TestClient) -> None:
    for path in (f"{ASSETS}/index.html", f"{ASSETS}/../docs", f"{ASSETS}/swagger-initializer.js"):
        assert client.get(path).status_code == 404


def test_fastapi_redoc_page_is_not_served(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404


@pytest.fixture
def docs(chromium: object, server_url: str) -> Iterator[tuple[Watched, list[str]]]:
    """/docs in a fresh browser context; yields the page and every URL it requested."""
    from playwright.sync_api import Browser, ConsoleMessage

    assert isinstance(chromium, Browser)
    context = chromium.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(CSP_PROBE)
    page = context.new_page()
    watched = Watched(page)
    requested: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.console_errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.page_errors.append(str(error)))
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{server_url}/docs")
    yield watched, requested
    context.close()


def test_docs_page_renders_every_route_and_tries_one_under_the_csp(
    docs: tuple[Watched, list[str]], server_url: str
) -> None:
    watched, requested = docs
    page = watched.page
    page.wait_for_selector(".opblock")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert {"/v1/models", "/v1/predict", "/v1/predict/timeline", "/healthz"} <= set(paths)
    models = page.locator("#operations-models-list_models_v1_models_get")
    models.locator(".opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    status = models.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    watched.assert_clean()
    assert requested and all(url.startswith(server_url) for url in requested)
