"""``audioclf serve --ray``: the same app as Ray Serve replicas, batched by @serve.batch."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from audioclf.jobs import CORES_ENV
from audioclf.service.ray_serve import Scale, replica_settings, run
from audioclf.service.settings import Settings
from tests.service.conftest import wav_bytes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_scale_options_size_replicas_and_their_threads(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    fixed = Scale(replicas=3, cpus_per_replica=2).deployment_options(settings)
    assert fixed["num_replicas"] == 3 and "autoscaling_config" not in fixed
    assert fixed["ray_actor_options"]["num_cpus"] == 2
    assert fixed["ray_actor_options"]["runtime_env"]["env_vars"] == {CORES_ENV: "2"}
    assert fixed["max_ongoing_requests"] >= settings.max_batch
    auto = Scale(min_replicas=1, max_replicas=4).deployment_options(settings)
    assert "num_replicas" not in auto
    assert auto["autoscaling_config"]["min_replicas"] == 1
    assert auto["autoscaling_config"]["max_replicas"] == 4
    one = replica_settings(settings, Scale(cpus_per_replica=2))
    assert one.inference_workers == 2 and one.onnx_threads == 2 and one.feedback_secret
    with pytest.raises(ValueError, match="--min-replicas"):
        Scale(min_replicas=3, max_replicas=2).check()


@pytest.mark.xdist_group("ray")
def test_ray_serve_answers_like_the_plain_server(
    make_settings: Callable[..., Settings], make_client: Callable[..., TestClient], local_ray: Any
) -> None:
    from ray import serve

    settings = make_settings(rate_limit_per_minute=0)
    port = _free_port()
    run(settings, Scale(replicas=1), host="127.0.0.1", port=port, blocking=False)
    try:
        clip = wav_bytes()
        base = f"http://127.0.0.1:{port}"
        headers = {"content-type": "audio/wav"}
        served = httpx.post(
            f"{base}/v1/predict?model=all", content=clip, headers=headers, timeout=60
        )
        plain = make_client(rate_limit_per_minute=0).post(
            "/v1/predict?model=all", content=clip, headers=headers
        )
        assert served.status_code == plain.status_code == 200
        for a, b in zip(served.json()["results"], plain.json()["results"], strict=True):
            assert a["model"] == b["model"]
            assert a["probabilities"] == pytest.approx(b["probabilities"], abs=1e-6)

        # concurrent requests go through @serve.batch and each gets its own answer
        async def together() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                return await asyncio.gather(
                    *(
                        client.post("/v1/predict?model=logreg", content=clip, headers=headers)
                        for _ in range(8)
                    )
                )

        answers = asyncio.run(together())
        assert all(r.status_code == 200 for r in answers)
        want = next(r for r in plain.json()["results"] if r["model"] == "logreg")["probabilities"]
        for r in answers:
            assert r.json()["results"][0]["probabilities"] == pytest.approx(want, abs=1e-6)
        assert httpx.get(f"{base}/healthz", timeout=30).status_code == 200
        assert "audioclf" in httpx.get(f"{base}/metrics", timeout=30).text
        bad = httpx.post(f"{base}/v1/predict", content=b"not audio", headers=headers, timeout=30)
        assert bad.status_code == 415 and "not a recognised audio format" in bad.json()["detail"]
    finally:
        serve.shutdown()


def test_cli_serve_ray_refuses_uvicorn_workers(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from audioclf.cli import app

    both = CliRunner().invoke(app, ["serve", str(tmp_path), "--ray", "--workers", "2"])
    assert both.exit_code != 0 and "with --ray give --replicas" in both.output
