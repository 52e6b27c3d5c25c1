"""The deployment files: docker-compose.yml is valid compose, trusts forwarded client
addresses only from the proxy, bounds the app's memory and CPU, and pins every image by
digest; the Caddyfile sets read and write timeouts."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))


def _compose_command() -> list[str]:
    docker = shutil.which("docker")
    plugin = docker and subprocess.run([docker, "compose", "version"], capture_output=True)
    if docker and plugin and plugin.returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy:
        return [legacy]
    pytest.fail("neither `docker compose` nor `docker-compose` is installed (make installs it)")


def test_compose_file_is_valid_and_needs_its_settings() -> None:
    command = [*_compose_command(), "-f", str(COMPOSE), "config", "--quiet"]
    env = {"PATH": os.environ["PATH"], "DOMAIN": "audio.example.org"}
    missing = subprocess.run(command, capture_output=True, text=True, env=env)
    assert missing.returncode != 0
    assert "AUDIOCLF_API_KEY" in missing.stderr
    env["AUDIOCLF_API_KEY"] = "Qm7vT2xLp9RzW4kN8cJ3hF6dY1sB5gA0eU"
    ok = subprocess.run(command, capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr


def test_forwarded_addresses_are_trusted_only_from_the_proxy(compose: dict[str, Any]) -> None:
    trusted = compose["services"]["app"]["environment"]["FORWARDED_ALLOW_IPS"]
    assert "*" not in trusted
    caddy_address = compose["services"]["caddy"]["networks"]["backend"]["ipv4_address"]
    assert trusted == caddy_address
    subnet = compose["networks"]["backend"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(caddy_address) in ipaddress.ip_network(subnet)
    assert compose["networks"]["backend"]["internal"] is True


@pytest.mark.parametrize("service", ["app", "caddy"])
def test_every_service_has_memory_and_cpu_limits(compose: dict[str, Any], service: str) -> None:
    limits = compose["services"][service]["deploy"]["resources"]["limits"]
    assert re.fullmatch(r"\d+[mg]", limits["memory"])
    assert float(limits["cpus"]) > 0


def test_app_work_bounds_are_set_beside_its_memory_limit(compose: dict[str, Any]) -> None:
    env = compose["services"]["app"]["environment"]
    for name in (
        "AUDIOCLF_MAX_CONCURRENT_REQUESTS",
        "AUDIOCLF_DECODE_WORKERS",
        "AUDIOCLF_DECODE_MEMORY_BYTES",
    ):
        assert int(env[name]) > 0, name
    assert any(str(m).startswith("/tmp:size=") for m in compose["services"]["app"]["tmpfs"])


def test_images_are_pinned_by_digest(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if "build" in service:
            continue
        assert DIGEST.search(service["image"]), f"{name}: {service['image']}"
    dockerfile = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, re.MULTILINE)
    assert base and DIGEST.search(base.group(1))


def test_caddy_has_server_and_proxy_timeouts() -> None:
    text = CADDYFILE.read_text()
    for directive in ("read_header", "read_body", "write", "idle"):
        assert re.search(rf"^\s*{directive}\s+\d+[smh]\s*$", text, re.MULTILINE), directive
    for directive in ("dial_timeout", "response_header_timeout", "read_timeout"):
        assert re.search(rf"^\s*{directive}\s+\d+[smh]\s*$", text, re.MULTILINE), directive


RAY_COMPOSE = ROOT / "deploy" / "ray" / "docker-compose.yml"
RAY_SERVICE = ROOT / "deploy" / "ray" / "rayservice.yaml"


def test_ray_compose_is_valid_and_needs_the_cluster_token() -> None:
    command = [*_compose_command(), "-f", str(RAY_COMPOSE), "config"]
    env = {"PATH": os.environ["PATH"]}
    missing = subprocess.run(command, capture_output=True, text=True, env=env)
    assert missing.returncode != 0 and "RAY_AUTH_TOKEN" in missing.stderr
    env["RAY_AUTH_TOKEN"] = "3f9c1d0b7a2e4c8f9d1b6a0e5c7f2a9b"
    no_data = subprocess.run(command, capture_output=True, text=True, env=env)
    assert no_data.returncode != 0 and "DATA_DIR" in no_data.stderr
    env["DATA_DIR"] = "/srv/corpora"
    ok = subprocess.run(command, capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    services = yaml.safe_load(ok.stdout)["services"]
    head, worker = services["ray-head"], services["ray-worker"]
    assert "--head" in head["command"] and "--address=ray-head:6379" in worker["command"]
    for node in (head, worker):
        # every node: the image with the ray extra, the same paths, token auth, limits
        assert node["build"]["args"]["EXTRAS"].split(",")[-1] == "ray"
        targets = {v["target"] if isinstance(v, dict) else v.split(":")[1] for v in node["volumes"]}
        assert targets == {"/data", "/runs", "/cache"}
        assert node["environment"]["RAY_AUTH_MODE"] == "token"
        assert node["environment"]["AUDIOCLF_CACHE"] == "/cache"
        assert node["deploy"]["resources"]["limits"]["memory"]
    # Serve's proxy is published on loopback only (HTTPS goes in front of it)
    for port in head["ports"]:  # compose v2 writes a mapping, v1 a string
        assert (
            port.get("host_ip") if isinstance(port, dict) else port.split(":")[0]
        ) == "127.0.0.1"


def test_rayservice_names_the_app_builder_and_gives_every_node_the_shared_volume() -> None:
    from audioclf.service import ray_serve

    manifest = yaml.safe_load(RAY_SERVICE.read_text())
    assert manifest["apiVersion"] == "ray.io/v1" and manifest["kind"] == "RayService"
    serve_config = yaml.safe_load(manifest["spec"]["serveConfigV2"])
    (application,) = serve_config["applications"]
    module, name = application["import_path"].split(":")
    assert module == ray_serve.__name__ and callable(getattr(ray_serve, name))
    assert set(application["args"]) <= set(ray_serve.SCALE_ARGS)
    assert "AUDIOCLF_RUNS" in application["runtime_env"]["env_vars"]
    cluster = manifest["spec"]["rayClusterConfig"]
    pods = [cluster["headGroupSpec"]] + cluster["workerGroupSpecs"]
    for pod in pods:
        spec = pod["template"]["spec"]
        (container,) = spec["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert env["RAY_AUTH_MODE"]["value"] == "token"
        assert "secretKeyRef" in env["RAY_AUTH_TOKEN"]["valueFrom"]
        assert {m["mountPath"] for m in container["volumeMounts"]} >= {"/shared"}
        assert container["resources"]["limits"]["cpu"] == pod["rayStartParams"]["num-cpus"]


def test_app_builder_refuses_unknown_or_bad_arguments() -> None:
    from audioclf.service.ray_serve import app_builder

    with pytest.raises(ValueError, match="not \\['replica'\\]"):
        app_builder({"replica": "2"})
    with pytest.raises(ValueError, match="replicas must be a number"):
        app_builder({"replicas": "two"})
