"""PostGIS connections: URLs with masked passwords, engines, layer-source checks."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from ..errors import ValidationError

LOG = logging.getLogger(__name__)

SOURCE_KEYS: frozenset[str] = frozenset({"url", "url_env", "table", "query", "geometry"})
"""Keys a ``[layers.<name>]`` entry of a study TOML may use for a PostGIS layer."""


_MAX_IDENTIFIER_BYTES = 63  # PostgreSQL silently truncates longer names


_CONNECT_TIMEOUT_S = 10


_PASSWORD_PARAMETER = re.compile(r"(?i)(password=)[^&#\s]*")


def mask_url(url: str) -> str:
    """Return ``url`` with its password replaced by ``***``.

    Both the ``user:password@`` part and any ``password=`` parameter are masked. The text
    need not be a valid URL: nothing is parsed that could fail and echo it. When unsure where
    the password ends, more is masked rather than less.

    Parameters
    ----------
    url
        A database URL.

    Returns
    -------
    str

    Examples
    --------
    >>> mask_url("postgresql://gis:p%40ss@127.0.0.1/planning?password=x&sslmode=require")
    'postgresql://gis:***@127.0.0.1/planning?password=***&sslmode=require'
    >>> mask_url("postgresql://gis@127.0.0.1/planning")
    'postgresql://gis@127.0.0.1/planning'
    """
    head, at, tail = url.rpartition("@")
    if at:
        scheme, sep, userinfo = head.partition("://")
        if not sep:
            scheme, userinfo = "", head
        if ":" in userinfo:
            url = f"{scheme}{sep}{userinfo.split(':', 1)[0]}:***@{tail}"
    return _PASSWORD_PARAMETER.sub(r"\1***", url)


def source_problems(entry: Mapping[str, object], *, where: str) -> list[str]:
    """Check a PostGIS layer entry of a study TOML; return one line per problem.

    Parameters
    ----------
    entry
        The ``[layers.<name>]`` table: keys from :data:`SOURCE_KEYS`.
    where
        The place named in each message, e.g. ``"study.toml: [layers.reserved_land]"``.

    Returns
    -------
    list of str
        Empty when the entry is good. A URL that holds a password is a problem: the password
        belongs in the environment, not in the file.

    Examples
    --------
    >>> source_problems({"url": "postgresql://gis@127.0.0.1/planning",
    ...                  "table": "landuse.edu_parcels"}, where="[layers.reserved_land]")
    []
    >>> source_problems({"url_env": "LAYOUT_DB_URL"}, where="[layers.reserved_land]")
    ["[layers.reserved_land]: give exactly one of 'table' or 'query'."]
    """
    problems = [
        f"{where}: '{key}' must be a non-empty string."
        for key in sorted(SOURCE_KEYS & set(entry))
        if not isinstance(entry[key], str) or not entry[key]
    ]
    if problems:
        return problems
    if ("url" in entry) == ("url_env" in entry):
        problems.append(
            f"{where}: give exactly one of 'url' (without password) or 'url_env' (the name of "
            "an environment variable holding the URL)."
        )
    url = entry.get("url")
    if isinstance(url, str) and mask_url(url) != url:
        problems.append(
            f"{where}: the url holds a password; keep it out of the file. Fix: write "
            f"{mask_url(url).replace(':***@', '@')} and set PGPASSWORD or PGPASSFILE, or put "
            "the whole URL in an environment variable named by url_env."
        )
    if ("table" in entry) == ("query" in entry):
        problems.append(f"{where}: give exactly one of 'table' or 'query'.")
    if isinstance(entry.get("table"), str):
        problems += _table_problems(str(entry["table"]), where=where)
    if isinstance(entry.get("geometry"), str):
        problems += _identifier_problems(str(entry["geometry"]), what="geometry", where=where)
    return problems


def engine_from_url(url: str | None = None, *, url_env: str | None = None) -> Engine:
    """Connect to a PostgreSQL database through psycopg 3 and return the engine.

    The connection is tried once at once, so a wrong host, port or password is reported
    here, with the URL's password masked.

    Parameters
    ----------
    url
        ``postgresql://[user[:password]@]host[:port]/database``. Parts left out come from
        the libpq environment (``PGUSER``, ``PGPASSWORD``, ``PGPASSFILE`` ...). Any
        ``postgresql+<driver>`` scheme is switched to psycopg.
    url_env
        Name of an environment variable holding the URL instead (give ``url`` or this).

    Returns
    -------
    sqlalchemy.Engine
        Opens a new connection for each use (no pool is kept open between uses).

    Raises
    ------
    ValidationError
        No URL, not a PostgreSQL URL, or the server cannot be reached or refuses the login.

    Examples
    --------
    >>> engine = engine_from_url("postgresql://gis:s3cret@127.0.0.1:9/planning")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    layout.errors.ValidationError: cannot connect to postgresql+psycopg://gis:***@127.0.0.1:9/...
    """
    text = _url_text(url, url_env)
    try:
        parsed = sa.make_url(text)
    except sa_exc.ArgumentError:
        parsed = None  # raised below, outside the handler, so no chained error shows the URL
    if parsed is None or parsed.get_backend_name() != "postgresql":
        raise ValidationError(
            f"url {mask_url(text)} is not a PostgreSQL URL. Fix: write it as "
            "postgresql://user@host:port/database (the password in PGPASSWORD or PGPASSFILE)."
        )
    connect_args = (
        {} if "connect_timeout" in parsed.query else {"connect_timeout": _CONNECT_TIMEOUT_S}
    )
    engine = sa.create_engine(
        parsed.set(drivername="postgresql+psycopg"), poolclass=NullPool, connect_args=connect_args
    )
    _connect(engine).close()
    LOG.info("connected to %s", _shown(engine))
    return engine


def _url_text(url: str | None, url_env: str | None) -> str:
    if (url is None) == (url_env is None):
        raise ValidationError(
            "give exactly one of url (postgresql://user@host:port/database) or url_env (the "
            "name of an environment variable holding the URL)."
        )
    if url_env is not None:
        value = os.environ.get(url_env, "")
        if not value:
            raise ValidationError(
                f"url_env: environment variable {url_env} is not set or empty. Fix: export "
                f"{url_env}=postgresql://user:password@host:port/database before running."
            )
        return value
    if not isinstance(url, str) or not url:
        raise ValidationError("url must be a non-empty string such as postgresql://gis@host/db.")
    return url


def _shown(engine: Engine) -> str:
    """Return the engine's URL for messages, password masked."""
    return mask_url(engine.url.render_as_string(hide_password=False))


def _scrub(message: str, url: sa.URL) -> str:
    """Remove the URL's password from a driver message, should it ever echo it."""
    in_query = url.query.get("password")
    secrets = [url.password, *([in_query] if isinstance(in_query, str) else in_query or ())]
    for secret in filter(None, secrets):
        message = message.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return message


def _reason(exc: BaseException, url: sa.URL) -> str:
    """Return the driver's own message for an error (pandas and SQLAlchemy wrap it), scrubbed."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, sa_exc.DBAPIError):
        cause = cause.__cause__ or cause.__context__
    text = str(cause.orig) if isinstance(cause, sa_exc.DBAPIError) else str(exc)
    return _scrub(text, url).strip()


def _connect(engine: Engine) -> Connection:
    try:
        return engine.connect()
    except sa_exc.DBAPIError as exc:
        reason = _reason(exc, engine.url)
    # Raised outside the handler so the driver's exception is not chained to it.
    raise ValidationError(
        f"cannot connect to {_shown(engine)}: {reason}\nFix: check the host, port and database "
        "in the url, that the server is running and accepts connections from this machine, and "
        "the credentials (user in the url; password from PGPASSWORD, PGPASSFILE, or the "
        "variable named by url_env)."
    )


def _identifier_problems(name: str, *, what: str, where: str) -> list[str]:
    if not isinstance(name, str) or not name.strip():
        return [f"{where}: {what} name must be a non-empty string."]
    if any(ord(ch) < 32 for ch in name) or len(name.encode()) > _MAX_IDENTIFIER_BYTES:
        return [
            f"{where}: {what} name '{name}' is not a usable PostgreSQL name (at most "
            f"{_MAX_IDENTIFIER_BYTES} bytes, no control characters). Fix: rename it."
        ]
    return []


def _table_problems(table: str, *, where: str) -> list[str]:
    parts = table.split(".") if isinstance(table, str) else [table]
    if len(parts) > 2:
        return [f"{where}: table '{table}' must be written table or schema.table."]
    what = ("schema", "table") if len(parts) == 2 else ("table",)
    return [
        p
        for part, w in zip(parts, what, strict=True)
        for p in _identifier_problems(part, what=w, where=where)
    ]
