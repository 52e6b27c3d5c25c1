"""``GET /v1/models/{name}/web`` and ``…/web/card``: the browser export over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient


def test_models_say_which_have_a_browser_export(client: TestClient) -> None:
    listed = {m["name"]: m["web"] for m in client.get("/v1/models").json()["models"]}
    assert listed == {"cnn": True, "logreg": False}


def test_web_model_is_the_exported_file_with_an_etag(client: TestClient, runs: list[Path]) -> None:
    web = runs[0] / "web"
    card = json.loads((web / "card.json").read_text())
    r = client.get("/v1/models/cnn/web")
    assert r.status_code == 200
    assert r.content == (web / "model.onnx").read_bytes()
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["etag"] == f'"{card["sha256"]}"'
    assert r.headers["cache-control"] == "public, no-cache"
    # no key needed, and a page that has it is told so without the body
    again = client.get("/v1/models/cnn/web", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    stale = client.get("/v1/models/cnn/web", headers={"If-None-Match": '"0123"'})
    assert stale.status_code == 200


def test_web_card_describes_the_graph(client: TestClient) -> None:
    r = client.get("/v1/models/cnn/web/card")
    assert r.status_code == 200
    card = r.json()
    assert card["format"] == "audioclf-web" and card["input"] == "waveform"
    assert card["labels"] == client.get("/v1/models").json()["models"][0]["labels"]
    assert card["sample_rate"] == 16_000 and card["max_seconds"] > 0
    assert r.headers["etag"] == f'"{card["sha256"]}"'


def test_model_without_export_is_404_naming_the_command(client: TestClient) -> None:
    for path in ("/v1/models/logreg/web", "/v1/models/logreg/web/card"):
        r = client.get(path)
        assert r.status_code == 404
        detail = r.json()["detail"]
        assert "audioclf export" in detail and "logreg" in detail
        assert "/tmp" not in detail  # no server path leaks to a public client


def test_unknown_model_is_404(client: TestClient) -> None:
    r = client.get("/v1/models/nope/web")
    assert r.status_code == 404 and "nope" in r.json()["detail"]


def test_metrics_label_the_route_by_its_template(client: TestClient) -> None:
    client.get("/v1/models/cnn/web/card")
    client.get("/v1/models/logreg/web/card")
    text = client.get("/metrics").text
    assert 'route="/v1/models/{name}/web/card"' in text
    assert "logreg/web" not in text
