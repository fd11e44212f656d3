"""A real PostgreSQL server with PostGIS for tests, started once per session on a private port.

The ``postgis_url`` fixture runs ``initdb`` into a temporary folder, starts the server on a free
port of 127.0.0.1 (its unix socket in the same folder, so it meets no other server), creates
the database ``layout_test`` with ``CREATE EXTENSION postgis`` and yields its URL, with the
password of the ``postgres`` superuser in it (password login over TCP, scram-sha-256). The
server is stopped and its folder removed at the end of the session.

PostgreSQL refuses to run as root: as root, the server runs as the ``postgres`` system user
(created if missing) through ``runuser`` (or ``su``).

Without PostgreSQL or PostGIS the tests are skipped, naming the Debian packages to install
(``postgresql postgresql-postgis``); when ``CI=true`` they fail instead, so CI cannot pass
without running them.

Use it from a test module with ``from tests.postgis_server import postgis_url``.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

DEBIAN_PACKAGES = "postgresql postgresql-postgis"
"""``postgis`` alone only recommends the extension; ``postgresql-postgis`` brings it."""

DATABASE = "layout_test"
_SERVER_USER = "postgres"
_POSTGIS = "CREATE EXTENSION postgis"
_FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB"


def _unavailable(reason: str) -> None:
    """Skip, or fail when CI=true: CI must run the PostGIS tests."""
    message = f"{reason}; install the Debian packages: apt-get install -y {DEBIAN_PACKAGES}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {message}")
    pytest.skip(message)


def _version(bin_dir: Path) -> tuple[int, ...]:
    name = bin_dir.parent.name
    return tuple(int(p) for p in name.split(".") if p.isdigit()) or (0,)


def _bin_dir(*, root: Path = Path("/usr/lib/postgresql")) -> Path:
    """Return the bin folder of the newest PostgreSQL under ``root`` (or on PATH) with PostGIS."""
    candidates = sorted(root.glob("*/bin"), key=_version, reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    servers = [d for d in candidates if (d / "initdb").is_file() and (d / "pg_ctl").is_file()]
    if not servers:
        _unavailable(f"PostgreSQL is not installed (no initdb and pg_ctl under {root} or on PATH)")
    for bin_dir in servers:
        share = subprocess.run(
            [str(bin_dir / "pg_config"), "--sharedir"], capture_output=True, text=True, check=True
        ).stdout.strip()
        if (Path(share) / "extension" / "postgis.control").is_file():
            return bin_dir
    _unavailable(f"PostGIS is not installed for PostgreSQL in {', '.join(map(str, servers))}")
    raise AssertionError("unreachable")  # _unavailable always raises


def _as_server_user(command: list[str]) -> list[str]:
    """Wrap a command so that it runs as the postgres user when we are root."""
    if os.geteuid() != 0:
        return command
    if shutil.which("runuser"):
        return ["runuser", "-u", _SERVER_USER, "--", *command]
    return ["su", _SERVER_USER, "-s", "/bin/sh", "-c", shlex.join(command)]


def _server_user_ids() -> tuple[int, int] | None:
    """Return uid and gid of the postgres user (creating it) when root, else None."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(_SERVER_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                _SERVER_USER,
            ],
            check=True,
        )
        entry = pwd.getpwnam(_SERVER_USER)
    return entry.pw_uid, entry.pw_gid


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(command: list[str], *, what: str) -> None:
    done = subprocess.run(_as_server_user(command), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def _create_database(port: int, password: str) -> None:
    import psycopg

    for dbname, statement in (("postgres", f"CREATE DATABASE {DATABASE}"), (DATABASE, _POSTGIS)):
        with psycopg.connect(
            host="127.0.0.1",
            port=port,
            user=_SERVER_USER,
            password=password,
            dbname=dbname,
            autocommit=True,
        ) as conn:
            conn.execute(statement)


@pytest.fixture(scope="session")
def postgis_url() -> Iterator[str]:
    """Yield ``postgresql://postgres:<password>@127.0.0.1:<port>/layout_test`` of a new server."""
    bin_dir = _bin_dir()
    ids = _server_user_ids()
    # As root, under /tmp: the postgres user cannot enter a TMPDIR inside root's home.
    home = Path(tempfile.mkdtemp(prefix="layout-pg-", dir="/tmp" if ids else None))
    password = f"pw-{secrets.token_hex(12)}"
    pwfile = home / "pwfile"
    pwfile.write_text(password + "\n")
    if ids:
        for path in (home, pwfile):
            os.chown(path, *ids)
    data, log, port = home / "data", home / "server.log", _free_port()
    started = False
    try:
        _run(
            [
                str(bin_dir / "initdb"), "-D", str(data), "-U", _SERVER_USER,
                f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256",
                "--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C",
            ],
            what="initdb",
        )  # fmt: skip
        options = f"-p {port} -k {shlex.quote(str(home))} -c listen_addresses=127.0.0.1 {_FAST}"
        start = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60"]
        _run([*start, "-o", options, "start"], what=f"pg_ctl start (log: {log})")
        started = True
        _create_database(port, password)
        yield f"postgresql://{_SERVER_USER}:{password}@127.0.0.1:{port}/{DATABASE}"
    finally:
        if started:
            _run(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                what="pg_ctl stop",
            )
        shutil.rmtree(home, ignore_errors=True)
