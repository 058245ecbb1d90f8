"""SQLAlchemy engines and sessions, one per Django database alias.

A query must see exactly what the Django ORM sees in the same thread, rows
written inside an open ``transaction.atomic()`` block included. An engine with
its own pool cannot: its connections are other database sessions. So the
engines built here open no connection of their own. Each checkout borrows the
calling thread's Django connection for the alias, through a proxy that ignores
``commit``, ``rollback`` and ``close``: the transaction belongs to Django, and
SQLAlchemy only reads inside it.

:func:`database_url` is for the rare caller that wants a standalone engine
(its own connections, its own transactions), built from the same settings.
"""

from __future__ import annotations

import threading
from typing import Any

from django.db import connections
from sqlalchemy import create_engine
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.psycopg2 import PGDialect_psycopg2
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import scoped_session, sessionmaker
from sqlalchemy.pool import NullPool

from aiidasite.exceptions import InputValidationError
from queries import driver

__all__ = ["database_url", "get_engine", "get_scoped_session", "reset_session"]


class BorrowedSQLiteDialect(SQLiteDialect_pysqlite):
    """pysqlite, minus the functions SQLAlchemy installs on each connection.

    The connection is Django's: it keeps Django's own ``REGEXP``.
    """

    supports_statement_cache = True

    def on_connect(self) -> None:
        return None


class BorrowedPostgreSQLDialect(PGDialect_psycopg2):
    """psycopg2, minus the type casters SQLAlchemy installs on each connection.

    Django registers its own casters on its connections (``jsonb`` comes back
    as text); the tables in :mod:`queries.tables` decode values themselves.
    """

    supports_statement_cache = True

    def on_connect(self) -> None:
        return None


registry.register("sqlite.borrowed", "queries.session", "BorrowedSQLiteDialect")
registry.register("postgresql.borrowed", "queries.session", "BorrowedPostgreSQLDialect")

_DIALECT_URLS = {
    "sqlite": "sqlite+borrowed://",
    "postgresql": "postgresql+borrowed://",
}
_RESERVED_ENGINE_OPTIONS = frozenset({"creator", "poolclass", "pool"})


class BorrowedConnection:
    """A DBAPI connection that is the current thread's Django connection.

    The Django connection is looked up on every use, so a proxy outlives
    Django closing and reopening its connection between requests.
    """

    def __init__(self, alias: str) -> None:
        self._alias = alias

    @property
    def dbapi_connection(self) -> Any:
        wrapper = connections[self._alias]
        wrapper.ensure_connection()
        return wrapper.connection

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        return self.dbapi_connection.cursor(*args, **kwargs)

    def commit(self) -> None:
        """Leave the transaction to Django."""

    def rollback(self) -> None:
        """Leave the transaction to Django."""

    def close(self) -> None:
        """Leave the connection to Django."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.dbapi_connection, name)


_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_engine_options: dict[str, dict[str, Any]] = {}
_sessions: dict[str, scoped_session] = {}


def _build_engine(alias: str, engine_kwargs: dict[str, Any]) -> Engine:
    reserved = _RESERVED_ENGINE_OPTIONS.intersection(engine_kwargs)
    if reserved:
        raise InputValidationError(
            f"Engine options {sorted(reserved)} cannot be set: the engine "
            "borrows Django's connections."
        )
    vendor = connections[alias].vendor
    if vendor not in _DIALECT_URLS:
        raise InputValidationError(
            f"Database {alias!r} uses {vendor!r}; queries support "
            f"{sorted(_DIALECT_URLS)}."
        )
    engine = create_engine(
        _DIALECT_URLS[vendor],
        creator=lambda: BorrowedConnection(alias),
        poolclass=NullPool,
        # Resetting a returned connection means ROLLBACK: Django's business.
        pool_reset_on_return=None,
        **engine_kwargs,
    )
    driver.listen(engine)
    return engine


def get_engine(alias: str = "default", **engine_kwargs: Any) -> Engine:
    """The engine of the Django database ``alias``, built on first use.

    ``engine_kwargs`` go to :func:`sqlalchemy.create_engine` (``echo=True``,
    ``execution_options=...``). Calling again with different options disposes
    the alias's engine and builds a new one; other aliases are untouched.

    :raises django.utils.connection.ConnectionDoesNotExist: unknown alias.
    :raises InputValidationError: an option that would replace the borrowed
        connections (``creator``, ``poolclass``, ``pool``) or an unsupported
        database vendor.
    """
    with _lock:
        engine = _engines.get(alias)
        if engine is not None and (
            not engine_kwargs or engine_kwargs == _engine_options[alias]
        ):
            return engine
        if engine is not None:
            _discard(alias)
        engine = _build_engine(alias, engine_kwargs)
        _engines[alias] = engine
        _engine_options[alias] = dict(engine_kwargs)
        return engine


def get_scoped_session(alias: str = "default", **engine_kwargs: Any) -> scoped_session:
    """The thread-scoped session factory of the Django database ``alias``.

    ``get_scoped_session()()`` is the calling thread's session. It reads
    through the thread's Django connection, inside whatever transaction Django
    has open; its ``commit``/``rollback``/``close`` never touch that
    transaction.

    :raises: as :func:`get_engine`.
    """
    engine = get_engine(alias, **engine_kwargs)
    with _lock:
        session = _sessions.get(alias)
        if session is None or session.session_factory.kw["bind"] is not engine:
            session = scoped_session(
                sessionmaker(bind=engine, autoflush=False, expire_on_commit=False)
            )
            _sessions[alias] = session
        return session


def _discard(alias: str) -> None:
    session = _sessions.pop(alias, None)
    if session is not None:
        session.remove()
    engine = _engines.pop(alias, None)
    _engine_options.pop(alias, None)
    if engine is not None:
        engine.dispose()


def reset_session(alias: str | None = None) -> None:
    """Dispose the engine and session of ``alias`` (every alias if None).

    The next :func:`get_scoped_session` builds fresh ones, e.g. after the
    ``DATABASES`` setting changed.
    """
    with _lock:
        for name in [alias] if alias is not None else list(_engines):
            _discard(name)


def database_url(alias: str = "default") -> URL:
    """A SQLAlchemy URL for a standalone engine on the database ``alias``.

    Built from the connection's settings with :meth:`URL.create`, so user
    names and passwords need no escaping.

    :raises InputValidationError: an unsupported database vendor.
    """
    wrapper = connections[alias]
    params = wrapper.settings_dict
    if wrapper.vendor == "sqlite":
        return URL.create("sqlite", database=str(params["NAME"]))
    if wrapper.vendor == "postgresql":
        return URL.create(
            "postgresql+psycopg2",
            username=params.get("USER") or None,
            password=params.get("PASSWORD") or None,
            host=params.get("HOST") or None,
            port=int(params["PORT"]) if params.get("PORT") else None,
            database=params.get("NAME") or None,
        )
    raise InputValidationError(
        f"Database {alias!r} uses {wrapper.vendor!r}; queries support "
        f"{sorted(_DIALECT_URLS)}."
    )
