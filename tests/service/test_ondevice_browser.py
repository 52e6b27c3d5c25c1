"""On-device mode in Debian's Chromium: the browser app runs the ``cnn`` run's web export
with ONNX Runtime Web (vendored under service/web/vendor/) and sends no audio.

Every test records the requests and WebSockets the page opens (workers' included) and
checks that none carries audio: no /v1/predict, no /v1/stream, no body beyond small JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from audioclf.service.app import WEB_DIR
from tests.conftest import tone
from tests.service.test_browser import (
    INSECURE_HOST,
    Watched,
    _open,
    _wait_pressed,
    chromium,
    fake_mic_wav,
    server_url,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Request, Route, WebSocket

__all__ = ["chromium", "fake_mic_wav", "server_url"]  # fixtures shared with test_browser

VENDOR = WEB_DIR / "vendor"
VENDOR_HINT = "run `make` (its $(VENDOR) target vendors onnxruntime-web) first"
SMALL_JSON = 2048
PARITY = 1e-4


@dataclass
class Traffic:
    """What a page sent: every request (method, URL, body) and every WebSocket URL."""

    requests: list[tuple[str, str, bytes | None]] = field(default_factory=list)
    sockets: list[str] = field(default_factory=list)

    def record(self, page: Page) -> None:
        def on_request(request: Request) -> None:
            self.requests.append((request.method, request.url, request.post_data_buffer))

        def on_socket(socket: WebSocket) -> None:
            self.sockets.append(socket.url)

        page.on("request", on_request)
        page.on("websocket", on_socket)

    def to(self, path: str) -> list[tuple[str, str, bytes | None]]:
        return [r for r in self.requests if httpx.URL(r[1]).path == path]

    def assert_no_audio_sent(self) -> None:
        """No audio route was called and no request carried more than a little JSON."""
        assert self.sockets == []
        for method, url, body in self.requests:
            path = httpx.URL(url).path
            assert not path.startswith(("/v1/predict", "/v1/stream")), (method, url)
            if body:
                assert len(body) <= SMALL_JSON, (method, url, len(body))
                json.loads(body)


@pytest.fixture(scope="module", autouse=True)
def _vendored() -> None:
    if not (VENDOR / "ort.wasm.min.mjs").is_file():
        pytest.fail(f"{VENDOR} has no onnxruntime-web: {VENDOR_HINT}", pytrace=False)


def _watch(browser: Browser, url: str, init_script: str = "") -> Iterator[tuple[Watched, Traffic]]:
    traffic = Traffic()
    for watched in _open(browser, url, init_script):
        traffic.record(watched.page)
        yield watched, traffic


@pytest.fixture
def page(chromium: Browser, server_url: str) -> Iterator[tuple[Watched, Traffic]]:
    """A fresh browser context with the app loaded; its traffic recorded from then on."""
    yield from _watch(chromium, server_url)


def _select(page: Page, model: str) -> None:
    page.select_option("#model-select", model)


def _device_probabilities(page: Page, model: str) -> dict[str, float]:
    block = page.locator(f'.model-result[data-model="{model}"][data-where="device"]')
    block.wait_for()
    bars = block.locator(".bar").evaluate_all(
        "els => els.map(e => [e.dataset.label, e.dataset.probability])"
    )
    return {label: float(p) for label, p in bars}


def _clip(path: Path) -> Path:
    """1.2 s, 16 kHz mono: a 300 Hz tone with a little noise (16-bit, as a phone records)."""
    rng = np.random.default_rng(7)
    y = tone(1.2, 16_000, freq=300.0, amp=0.4) + 0.02 * rng.standard_normal(19_200)
    sf.write(path, y.astype(np.float32), 16_000, subtype="PCM_16")
    return path


def test_static_files_and_isolation_headers(client: TestClient, server_url: str) -> None:
    wasm = client.get("/static/vendor/ort-wasm-simd-threaded.wasm")
    assert wasm.status_code == 200 and wasm.headers["content-type"] == "application/wasm"
    module = client.get("/static/vendor/ort.wasm.min.mjs")
    assert module.headers["content-type"].startswith("text/javascript")
    assert "MIT" in client.get("/static/vendor/LICENSE-onnxruntime-web.txt").text
    page = httpx.get(f"{server_url}/", timeout=10)  # a loopback origin: trustworthy
    csp = page.headers["content-security-policy"]
    assert "script-src 'self' 'wasm-unsafe-eval';" in csp and "worker-src 'self';" in csp
    assert "unsafe-inline" not in csp and "'unsafe-eval'" not in csp
    assert page.headers["cross-origin-opener-policy"] == "same-origin"
    assert page.headers["cross-origin-embedder-policy"] == "require-corp"
    assert page.headers["cross-origin-resource-policy"] == "same-origin"
    # plain HTTP to another host: the browser would ignore isolation (and log an error)
    insecure = client.get("/", headers={"Host": "audioclf.test"})
    assert "cross-origin-opener-policy" not in insecure.headers
    assert insecure.headers["cross-origin-resource-policy"] == "same-origin"
    secure = client.get("https://audioclf.test/")
    assert secure.headers["cross-origin-embedder-policy"] == "require-corp"


def test_upload_on_device_equals_the_server_and_sends_no_audio(
    page: tuple[Watched, Traffic], server_url: str, tmp_path: Path
) -> None:
    watched, traffic = page
    p = watched.page
    _select(p, "cnn")
    assert p.locator("#ondevice-toggle").is_checked()  # the default for a web-capable model
    path = _clip(tmp_path / "clip.wav")
    p.set_input_files("#file-input", str(path))
    probabilities = _device_probabilities(p, "cnn")
    top = p.locator('.model-result[data-model="cnn"] .bar.top').get_attribute("data-label")

    with path.open("rb") as f:
        answer = httpx.post(
            f"{server_url}/v1/predict", params={"model": "cnn"}, files={"file": f}, timeout=30
        )
    expected = answer.json()["results"][0]
    assert top == expected["top"]["label"]
    assert probabilities.keys() == expected["probabilities"].keys()
    for label, p_server in expected["probabilities"].items():
        assert abs(probabilities[label] - p_server) <= PARITY, label

    summary = p.locator("#results-summary").inner_text()
    assert "on this device" in summary and "no audio was sent" in summary
    assert "ms on this device" in p.locator('.model-result[data-model="cnn"] .meta').inner_text()
    assert p.locator(".model-result .feedback-note").count() == 1  # no feedback control
    assert p.evaluate("crossOriginIsolated") is True
    assert len(traffic.to("/v1/models/cnn/web")) == 1
    traffic.assert_no_audio_sent()
    watched.assert_clean()

    # a reload keeps the choice; the model comes from the Cache API, not the network again
    p.reload()
    p.wait_for_selector("#model-list li")
    assert p.locator("#model-select").input_value() == "cnn"
    assert p.locator("#ondevice-toggle").is_checked()
    p.set_input_files("#file-input", str(path))
    again = _device_probabilities(p, "cnn")
    assert again == pytest.approx(probabilities, abs=1e-6)
    assert len(traffic.to("/v1/models/cnn/web")) == 1
    traffic.assert_no_audio_sent()
    watched.assert_clean()


def test_recording_on_device_gives_a_result_and_sends_no_audio(
    page: tuple[Watched, Traffic],
) -> None:
    watched, traffic = page
    p = watched.page
    _select(p, "cnn")
    p.click("#record-button")
    _wait_pressed(p, "#record-button", True)
    p.wait_for_function("() => document.getElementById('elapsed').textContent === '0:01'")
    p.click("#record-button")
    _wait_pressed(p, "#record-button", False)
    probabilities = _device_probabilities(p, "cnn")
    assert probabilities.keys() == {"high", "low"}
    assert sum(probabilities.values()) == pytest.approx(1, abs=1e-4)
    assert p.locator("#results-summary").inner_text().startswith("Recording:")
    # classify() at another rate resamples in the page (OfflineAudioContext)
    result = p.evaluate(
        """import('/static/ondevice.js').then(async (m) => {
            const y = Float32Array.from({ length: 24000 }, (_, i) => Math.sin(i * 0.04));
            await m.load('cnn');
            return m.classify(y, 48000);
        })"""
    )
    assert result["seconds"] == pytest.approx(0.5) and not result["cut"]
    assert result["label"] in {"high", "low"} and result["ms"] > 0
    traffic.assert_no_audio_sent()
    watched.assert_clean()


def test_live_on_device_runs_in_a_worker_and_sends_no_audio(
    page: tuple[Watched, Traffic],
) -> None:
    watched, traffic = page
    p = watched.page
    _select(p, "cnn")
    p.click("#live-button")
    p.wait_for_selector('#live-section[data-where="device"]')
    p.wait_for_function("() => document.querySelectorAll('#live-bars .bar').length === 2")
    assert p.locator("#live-top").inner_text() in {"high", "low"}
    assert "ms on this device" in p.locator("#live-time").inner_text()
    assert p.locator("#live-section").get_attribute("data-capture") == "worklet"
    p.click("#live-button")
    _wait_pressed(p, "#live-button", False)
    assert p.locator("#message").is_hidden()
    traffic.assert_no_audio_sent()
    watched.assert_clean()


def test_a_model_without_web_export_asks_before_using_the_server(
    page: tuple[Watched, Traffic], tmp_path: Path
) -> None:
    watched, traffic = page
    p = watched.page
    _select(p, "logreg")
    toggle = p.locator("#ondevice-toggle")
    assert not toggle.is_checked()  # not on by default: it can't run here
    toggle.check()
    problem = p.locator("#ondevice-problem")
    problem.wait_for(state="visible")
    assert "“logreg” can't run in this page" in problem.inner_text()
    p.set_input_files("#file-input", str(_clip(tmp_path / "clip.wav")))
    p.wait_for_selector("#server-fallback:has-text('Send it to the server instead')")
    assert p.locator(".model-result").count() == 0
    traffic.assert_no_audio_sent()

    p.click("#server-fallback")  # the user's consent
    p.locator('.model-result[data-model="logreg"]').wait_for()
    assert len(traffic.to("/v1/predict")) == 1
    assert not toggle.is_checked() and problem.is_hidden()
    saved: dict[str, Any] = json.loads(p.evaluate("localStorage.getItem('audioclf.choices')"))
    assert saved["ondevice"] is False
    watched.assert_clean()


def test_plain_http_page_runs_on_one_thread_without_the_cache_api(
    chromium: Browser, server_url: str, tmp_path: Path
) -> None:
    port = server_url.rsplit(":", 1)[1]
    path = _clip(tmp_path / "clip.wav")
    for watched, traffic in _watch(chromium, f"http://{INSECURE_HOST}:{port}/"):
        p = watched.page
        assert p.evaluate("crossOriginIsolated || typeof caches !== 'undefined'") is False
        _select(p, "cnn")
        p.set_input_files("#file-input", str(path))
        assert _device_probabilities(p, "cnn").keys() == {"high", "low"}
        threads = p.evaluate(
            "import('/static/ondevice.js').then((m) => m.load('cnn')).then((m) => m.threads)"
        )
        assert threads == 1
        traffic.assert_no_audio_sent()
        watched.assert_clean()


def test_without_webassembly_the_page_says_so_and_sends_nothing(
    chromium: Browser, server_url: str, tmp_path: Path
) -> None:
    no_wasm = "Object.defineProperty(window, 'WebAssembly', { value: undefined });"
    for watched, traffic in _watch(chromium, server_url, no_wasm):
        p = watched.page
        _select(p, "cnn")
        assert p.locator("#ondevice-toggle").is_checked()
        problem = p.locator("#ondevice-problem")
        problem.wait_for(state="visible")
        assert "cannot run WebAssembly" in problem.inner_text()
        p.set_input_files("#file-input", str(_clip(tmp_path / "clip.wav")))
        p.wait_for_selector("#server-fallback:has-text('Send it to the server instead')")
        assert p.locator(".model-result").count() == 0
        traffic.assert_no_audio_sent()
        watched.assert_clean()


def test_a_missing_export_found_at_load_time_is_explained(
    page: tuple[Watched, Traffic], tmp_path: Path
) -> None:
    watched, traffic = page
    p = watched.page

    def every_model_web(route: Route) -> None:
        body = route.fetch().json()
        for model in body["models"]:
            model["web"] = model["web_whole"] = True
        route.fulfill(json=body)

    p.route("**/v1/models", every_model_web)
    p.reload()
    p.wait_for_selector("#model-list li")
    assert p.locator("#model-select").input_value() == "all"
    assert p.locator("#ondevice-toggle").is_checked()  # every model claims a web export
    p.set_input_files("#file-input", str(_clip(tmp_path / "clip.wav")))
    problem = p.locator("#ondevice-problem")
    problem.wait_for(state="visible")
    text = problem.inner_text()
    assert "“logreg” can't run in this page" in text and "no browser export" in text
    assert p.locator(".model-result").count() == 0
    traffic.assert_no_audio_sent()
    watched.assert_clean(allow_http_errors=True)  # the card's 404


def test_a_partial_export_is_off_by_default_and_says_what_it_gives_up(
    page: tuple[Watched, Traffic],
) -> None:
    watched, traffic = page
    p = watched.page

    def cnn_is_partial(route: Route) -> None:
        body = route.fetch().json()
        for model in body["models"]:
            if model["name"] == "cnn":
                model |= {"web_whole": False, "web_accuracy": 0.5}
        route.fulfill(json=body)

    p.route("**/v1/models", cnn_is_partial)
    p.reload()
    p.wait_for_selector("#model-list li")
    _select(p, "cnn")
    toggle = p.locator("#ondevice-toggle")
    assert not toggle.is_checked()  # it would not classify as the server does
    toggle.check()
    note = p.locator("#ondevice-note").inner_text()
    assert "smaller model than the server's" in note and "50.0% here" in note
    traffic.assert_no_audio_sent()
    watched.assert_clean()
