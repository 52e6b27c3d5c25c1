from __future__ import annotations

from pathlib import Path

import pytest

from audioclf.registry import Registry, RegistryError


def test_add_numbers_versions_per_name(db_url: str, trained_runs: list[Path]) -> None:
    reg = Registry(db_url)
    a1 = reg.add(trained_runs[0], "emotion")
    a2 = reg.add(trained_runs[1], "emotion")
    b1 = reg.add(trained_runs[0], "other")
    assert (a1.version, a2.version, b1.version) == (1, 2, 1)
    assert a1.stage == "candidate"
    assert a1.labels == ["high", "low"]
    assert "balanced_accuracy" in a1.metrics
    assert sum(a1.train_distribution.values()) > 0
    assert [(v.name, v.version) for v in reg.list()] == [
        ("emotion", 1),
        ("emotion", 2),
        ("other", 1),
    ]
    assert [v.version for v in reg.list("emotion")] == [1, 2]


def test_add_refuses_unfinished_run_and_bad_name(
    db_url: str, tmp_path: Path, trained_runs: list[Path]
) -> None:
    reg = Registry(db_url)
    with pytest.raises(RegistryError, match=r"model\.json"):
        reg.add(tmp_path, "emotion")
    with pytest.raises(RegistryError, match="invalid model name"):
        reg.add(trained_runs[0], "a b")
    assert reg.list() == []


def test_promote_archives_previous_and_rollback_restores_it(
    db_url: str, trained_runs: list[Path]
) -> None:
    reg = Registry(db_url)
    for _ in range(3):
        reg.add(trained_runs[0], "m")
    with pytest.raises(RegistryError, match="no production version"):
        reg.production("m")
    reg.promote("m", 1)
    reg.promote("m", 3)
    stages = {v.version: v.stage for v in reg.list("m")}
    assert stages == {1: "archived", 2: "candidate", 3: "production"}
    assert reg.production("m").version == 3
    assert reg.rollback("m").version == 1
    assert {v.version: v.stage for v in reg.list("m")} == {
        1: "production",
        2: "candidate",
        3: "archived",
    }
    with pytest.raises(RegistryError, match="nothing to roll back"):
        reg.rollback("m")
    assert reg.production("m").version == 1


def test_errors_name_what_exists(db_url: str, trained_runs: list[Path]) -> None:
    reg = Registry(db_url)
    reg.add(trained_runs[0], "m")
    with pytest.raises(RegistryError, match="versions: 1"):
        reg.promote("m", 7)
    with pytest.raises(RegistryError, match="registered: m"):
        reg.promote("nope", 1)
    with pytest.raises(RegistryError, match="no production version to roll back"):
        reg.rollback("m")
