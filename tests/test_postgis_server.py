"""The test server fixture's own logic: finding PostgreSQL/PostGIS, skip or fail, user switch."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import postgis_server


def _fake_install(root: Path, version: str, *, postgis: bool) -> Path:
    """Lay out ``<root>/<version>/bin`` with initdb, pg_ctl and a pg_config naming a share dir."""
    bin_dir = root / version / "bin"
    share = root / f"share-{version}"
    (share / "extension").mkdir(parents=True)
    if postgis:
        (share / "extension" / "postgis.control").write_text("")
    bin_dir.mkdir(parents=True)
    for tool in ("initdb", "pg_ctl"):
        (bin_dir / tool).write_text("")
    pg_config = bin_dir / "pg_config"
    pg_config.write_text(f"#!/bin/sh\necho {share}\n")
    pg_config.chmod(0o755)
    return bin_dir


@pytest.fixture
def no_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgis_server.shutil, "which", lambda name: None)


def test_newest_postgresql_with_postgis_is_chosen(tmp_path: Path, no_path: None) -> None:
    _fake_install(tmp_path, "16", postgis=False)
    _fake_install(tmp_path, "9.6", postgis=True)
    _fake_install(tmp_path, "13", postgis=True)
    # 16 lacks PostGIS; of 13 and 9.6 (which sorts below 13 as a version) 13 is newest.
    assert postgis_server._bin_dir(root=tmp_path) == tmp_path / "13" / "bin"


@pytest.mark.parametrize("ci", ["true", None])
def test_missing_postgis_skips_or_fails_under_ci(
    tmp_path: Path, no_path: None, monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    _fake_install(tmp_path, "15", postgis=False)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    outcome = pytest.fail.Exception if ci == "true" else pytest.skip.Exception
    with pytest.raises(outcome) as info:
        postgis_server._bin_dir(root=tmp_path)
    assert "PostGIS is not installed" in str(info.value)
    assert "apt-get install -y postgresql postgresql-postgis" in str(info.value)


def test_missing_postgresql_skips(
    tmp_path: Path, no_path: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "false")  # only "true" turns the skip into a failure
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL is not installed"):
        postgis_server._bin_dir(root=tmp_path)


@pytest.mark.parametrize(("uid", "runuser"), [(1000, True), (0, True), (0, False)])
def test_commands_run_as_postgres_only_when_root(
    monkeypatch: pytest.MonkeyPatch, uid: int, runuser: bool
) -> None:
    monkeypatch.setattr(postgis_server.os, "geteuid", lambda: uid)
    monkeypatch.setattr(
        postgis_server.shutil, "which", lambda name: "/sbin/runuser" if runuser else None
    )
    command = ["/usr/lib/postgresql/15/bin/initdb", "-D", "/tmp/a b"]
    expected = {
        (1000, True): command,
        (0, True): ["runuser", "-u", "postgres", "--", *command],
        (0, False): [
            "su",
            "postgres",
            "-s",
            "/bin/sh",
            "-c",
            "/usr/lib/postgresql/15/bin/initdb -D '/tmp/a b'",
        ],
    }
    assert postgis_server._as_server_user(command) == expected[uid, runuser]
