"""The browser app in Debian's Chromium: models, upload, recording, timeline, live, errors.

Drives the real app (uvicorn on a free local port, two tiny trained runs) with Playwright.
The fake microphone plays a generated tone; nothing here sleeps longer than the DOM needs.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import soundfile as sf

from audioclf.service.settings import Settings
from tests.conftest import tone
from tests.service.threaded_server import serve_in_thread

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = (
    "run `make test` (it installs Debian's chromium and the playwright package) "
    "before the browser tests"
)
INSECURE_HOST = "audioclf.test"
TIMEOUT_MS = 15_000

CSP_PROBE = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


@dataclass
class Watched:
    """A page with what it reported: console errors and uncaught exceptions."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[str]:
        """Content-Security-Policy violations seen by the page."""
        return list(self.page.evaluate("window.__csp || []"))

    def assert_clean(self, *, allow_http_errors: bool = False) -> None:
        """No uncaught exception, no CSP violation, no console error (bar failed requests)."""
        errors = self.console_errors
        if allow_http_errors:
            errors = [e for e in errors if "Failed to load resource" not in e]
        assert self.page_errors == []
        assert self.csp_violations() == []
        assert errors == []


@pytest.fixture(scope="module")
def fake_mic_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fake microphone's sound: a 300 Hz tone (the 'low' class of the test corpus)."""
    path = tmp_path_factory.mktemp("mic") / "mic.wav"
    sf.write(path, tone(2.0, 48_000, freq=300.0, amp=0.4), 48_000, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def server_url(runs: list[Path]) -> Iterator[str]:
    """The real app under uvicorn in a background thread, on a free port of 127.0.0.1."""
    settings = Settings(_env_file=None, runs=runs, rate_limit_per_minute=0)  # type: ignore[call-arg]
    yield from serve_in_thread(settings)


@pytest.fixture(scope="module")
def chromium(fake_mic_wav: Path) -> Iterator[Browser]:
    """Debian's headless Chromium with a fake microphone; fails (not skips) when missing."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: {INSTALL_HINT}", pytrace=False)
    if importlib.util.find_spec("playwright") is None:
        pytest.fail(f"the playwright package is missing: {INSTALL_HINT}", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={fake_mic_wav}",
                f"--host-resolver-rules=MAP {INSECURE_HOST} 127.0.0.1",
            ],
        )
        yield browser
        browser.close()


def _open(browser: Browser, url: str, init_script: str = "") -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(CSP_PROBE + init_script)
    page = context.new_page()
    watched = Watched(page)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.console_errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.page_errors.append(str(error)))
    page.goto(url)
    page.wait_for_selector("#model-list li")
    yield watched
    context.close()


@pytest.fixture
def app(chromium: Browser, server_url: str) -> Iterator[Watched]:
    """A fresh browser context (empty storage) with the app loaded and its models listed."""
    yield from _open(chromium, server_url)


def _model_names(server_url: str) -> list[dict[str, Any]]:
    import urllib.request

    with urllib.request.urlopen(f"{server_url}/v1/models", timeout=10) as response:
        return list(json.load(response)["models"])


def _wait_pressed(page: Page, selector: str, pressed: bool) -> None:
    """Wait until the toggle button ``selector`` reports ``aria-pressed`` = ``pressed``."""
    value = "true" if pressed else "false"
    page.wait_for_selector(f'{selector}[aria-pressed="{value}"]')


def _upload(page: Page, path: Path) -> None:
    page.set_input_files("#file-input", str(path))


def _assert_bars(page: Page, models: list[dict[str, Any]]) -> None:
    blocks = page.locator(".model-result")
    blocks.first.wait_for()
    assert blocks.count() == len(models)
    for m in models:
        block = page.locator(f'.model-result[data-model="{m["name"]}"]')
        bars = block.locator(".bar")
        assert bars.count() == len(m["labels"])
        assert sorted(bars.evaluate_all("els => els.map(e => e.dataset.label)")) == sorted(
            m["labels"]
        )
        assert block.locator(".bar.top").count() == 1
        for text in bars.locator(".bar-value").all_inner_texts():
            assert re.fullmatch(r"\d{1,3}\.\d%", text), text
        widths = block.locator(".bar-fill").evaluate_all("els => els.map(e => e.style.width)")
        assert all(w.endswith("%") for w in widths)
        assert sum(float(w[:-1]) for w in widths) == pytest.approx(100, abs=1)


def test_page_loads_clean_and_lists_models(app: Watched, server_url: str) -> None:
    models = _model_names(server_url)
    page = app.page
    assert page.locator("#model-list li").count() == len(models)
    options = page.locator("#model-select option")
    assert options.count() == len(models) + 1
    assert options.first.get_attribute("value") == "all"
    first = page.locator("#model-list li").first.inner_text()
    assert models[0]["name"] in first and models[0]["task"] in first
    assert "accuracy" in first
    assert page.locator("#message").is_hidden()  # 127.0.0.1 is a secure context
    assert page.locator("#results").get_attribute("aria-live") == "polite"
    app.assert_clean()


def test_upload_shows_a_bar_per_class_for_every_model(
    app: Watched, server_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "clip.wav"
    sf.write(path, tone(1.0, 16_000, freq=2400.0), 16_000)
    _upload(app.page, path)
    _assert_bars(app.page, _model_names(server_url))
    assert "clip.wav" in app.page.locator("#results-summary").inner_text()
    assert app.page.locator("#message").is_hidden()
    app.assert_clean()


def test_dropped_file_is_classified(app: Watched, server_url: str, tmp_path: Path) -> None:
    path = tmp_path / "dropped.wav"
    sf.write(path, tone(0.7, 16_000, freq=300.0), 16_000)
    data = base64.b64encode(path.read_bytes()).decode()
    app.page.locator("#drop-zone").evaluate(
        """(zone, data) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "dropped.wav", { type: "audio/wav" }));
            for (const type of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true }));
            }
        }""",
        data,
    )
    _assert_bars(app.page, _model_names(server_url))
    assert "dropped.wav" in app.page.locator("#results-summary").inner_text()
    assert "dragging" not in (app.page.locator("#drop-zone").get_attribute("class") or "")
    app.assert_clean()


def test_one_model_choice_is_used_and_remembered(
    app: Watched, server_url: str, tmp_path: Path
) -> None:
    models = _model_names(server_url)
    name = models[-1]["name"]
    app.page.select_option("#model-select", name)
    path = tmp_path / "clip.flac"
    sf.write(path, tone(0.8, 22_050), 22_050, format="FLAC")
    _upload(app.page, path)
    _assert_bars(app.page, [models[-1]])
    app.page.reload()
    app.page.wait_for_selector("#model-list li")
    assert app.page.input_value("#model-select") == name
    app.assert_clean()


def test_unreadable_upload_shows_the_server_message(app: Watched, tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_bytes(b"this is not audio at all, just a few words of text\n" * 20)
    _upload(app.page, path)
    message = app.page.locator("#message")
    message.wait_for(state="visible")
    text = message.inner_text()
    assert text.startswith("Could not read this file as audio:")
    assert len(text) > len("Could not read this file as audio: . Try WAV")
    assert app.page.locator(".model-result").count() == 0
    app.assert_clean(allow_http_errors=True)


@pytest.mark.parametrize(
    ("status", "detail", "expected"),
    [
        (413, "upload larger than the limit of 10 bytes", "File too big or too long: upload"),
        (429, "rate limit reached", "Too many requests from this device: rate limit reached"),
    ],
)
def test_limit_errors_show_their_detail(
    app: Watched, tmp_path: Path, status: int, detail: str, expected: str
) -> None:
    app.page.route(
        "**/v1/predict*",
        lambda route: route.fulfill(
            status=status,
            content_type="application/json",
            headers={"Retry-After": "7"},
            body=json.dumps({"detail": detail}),
        ),
    )
    path = tmp_path / "clip.wav"
    sf.write(path, tone(0.6), 16_000)
    _upload(app.page, path)
    message = app.page.locator("#message")
    message.wait_for(state="visible")
    assert expected in message.inner_text()
    if status == 429:
        assert "7 s" in message.inner_text()
    app.assert_clean(allow_http_errors=True)


def test_unreachable_server_is_explained(app: Watched, tmp_path: Path) -> None:
    app.page.route("**/v1/predict*", lambda route: route.abort("connectionrefused"))
    path = tmp_path / "clip.wav"
    sf.write(path, tone(0.6), 16_000)
    _upload(app.page, path)
    message = app.page.locator("#message")
    message.wait_for(state="visible")
    assert "Cannot reach the server" in message.inner_text()
    app.assert_clean(allow_http_errors=True)


def test_recording_from_the_fake_microphone_gives_a_result(app: Watched, server_url: str) -> None:
    page = app.page
    button = page.locator("#record-button")
    button.focus()  # keyboard only: Enter starts, Space stops
    page.keyboard.press("Enter")
    _wait_pressed(page, "#record-button", True)
    page.wait_for_function("() => document.getElementById('elapsed').textContent === '0:01'")
    level = page.locator("#level-fill").evaluate("e => parseFloat(e.style.width)")
    assert level > 0  # the meter hears the tone
    page.keyboard.press("Space")
    _wait_pressed(page, "#record-button", False)
    _assert_bars(page, _model_names(server_url))
    summary = page.locator("#results-summary").inner_text()
    assert summary.startswith("Recording:")
    seconds = float(summary.split(":")[1].split("s of audio")[0])
    assert 0.8 <= seconds <= 5.0
    app.assert_clean()


def test_timeline_draws_a_chart_with_legend_and_table(
    app: Watched, server_url: str, tmp_path: Path
) -> None:
    model = _model_names(server_url)[0]
    page = app.page
    page.check("#timeline-toggle")
    page.select_option("#vad-select", "energy")
    sr = 16_000
    y = np.concatenate([tone(2.0, sr, freq=300.0), np.zeros(2 * sr, np.float32)])
    path = tmp_path / "long.wav"
    sf.write(path, np.concatenate([y, tone(2.0, sr, freq=2400.0)]), sr)
    _upload(page, path)
    page.locator("#timeline-section").wait_for(state="visible")
    legend = page.locator("#timeline-legend li").all_inner_texts()
    assert legend[: len(model["labels"])] == model["labels"]
    assert "silence" in legend[-1]
    rows = page.locator("#timeline-table tbody tr")
    assert rows.count() >= 4
    assert "(no voice)" in (page.locator("#timeline-table").text_content() or "")
    painted = page.locator("#timeline-chart").evaluate(
        """c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
            return n / (c.width * c.height);
        }"""
    )
    assert painted > 0.3
    app.assert_clean()


def test_live_mode_streams_rolling_predictions(app: Watched, server_url: str) -> None:
    model = _model_names(server_url)[0]
    page = app.page
    page.select_option("#model-select", model["name"])
    page.uncheck("#ondevice-toggle")  # the server's live mode (on-device: test_ondevice_browser)
    button = page.locator("#live-button")
    button.click()
    page.locator("#live-section").wait_for(state="visible")
    assert page.locator("#live-section").get_attribute("data-where") == "server"
    page.wait_for_function("() => document.querySelectorAll('#live-bars .bar').length > 0")
    assert page.locator("#live-bars .bar").count() == len(model["labels"])
    assert page.locator("#live-top").inner_text() in model["labels"]
    assert page.locator("#record-button").is_disabled()
    assert page.locator("#live-section").get_attribute("data-capture") == "worklet"
    button.click()
    _wait_pressed(page, "#live-button", False)
    assert page.locator("#message").is_hidden()
    app.assert_clean()


def test_insecure_context_explains_that_https_is_needed(chromium: Browser, server_url: str) -> None:
    port = server_url.rsplit(":", 1)[1]
    for watched in _open(chromium, f"http://{INSECURE_HOST}:{port}/"):
        message = watched.page.locator("#message")
        assert "HTTPS" in message.inner_text() and "localhost" in message.inner_text()
        watched.page.click("#record-button")
        assert "HTTPS" in message.inner_text()
        assert watched.page.locator("#record-button").get_attribute("aria-pressed") == "false"
        watched.assert_clean()


@pytest.mark.parametrize(
    ("error_name", "expected"),
    [
        ("NotAllowedError", "Microphone permission was denied"),
        ("NotFoundError", "No microphone was found"),
    ],
)
def test_microphone_failures_are_explained(
    chromium: Browser, server_url: str, error_name: str, expected: str
) -> None:
    refuse = (
        "navigator.mediaDevices.getUserMedia = () => "
        f"Promise.reject(new DOMException('refused', '{error_name}'));"
    )
    for watched in _open(chromium, server_url, refuse):
        watched.page.click("#record-button")
        message = watched.page.locator("#message")
        message.wait_for(state="visible")
        assert expected in message.inner_text()
        watched.page.click("#live-button")
        assert expected in message.inner_text()
        assert watched.page.locator("#live-section").is_hidden()
        watched.assert_clean()
