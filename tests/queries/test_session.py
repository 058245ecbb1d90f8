"""Sessions read through Django's connection, inside Django's transactions."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from django.db import connection, connections, transaction
from sqlalchemy.engine import make_url

from aiidasite.exceptions import InputValidationError
from nodes.models import DbNode
from queries.session import (
    database_url,
    get_engine,
    get_scoped_session,
    reset_session,
)
from queries.tables import get_tables


def count_nodes(label: str) -> int:
    node = get_tables().node
    session = get_scoped_session()()
    try:
        return session.execute(
            sa.select(sa.func.count()).where(node.c.label == label)
        ).scalar_one()
    finally:
        session.close()


@pytest.fixture(autouse=True)
def fresh_engines():
    reset_session()
    yield
    reset_session()


@pytest.mark.django_db
def test_query_sees_rows_written_in_the_test_transaction(graph):
    graph.node(label="seen")
    assert connection.in_atomic_block
    assert count_nodes("seen") == 1


@pytest.mark.django_db
def test_query_sees_rows_written_inside_an_open_atomic_block(graph):
    with transaction.atomic():
        graph.node(label="inside")
        assert count_nodes("inside") == 1
    assert count_nodes("inside") == 1


@pytest.mark.django_db
def test_rolled_back_rows_disappear_from_queries(graph):
    with pytest.raises(RuntimeError), transaction.atomic():
        graph.node(label="doomed")
        assert count_nodes("doomed") == 1
        raise RuntimeError
    assert count_nodes("doomed") == 0


@pytest.mark.django_db
def test_session_commit_and_rollback_leave_the_django_transaction_open(graph):
    with pytest.raises(RuntimeError), transaction.atomic():
        graph.node(label="kept-open")
        session = get_scoped_session()()
        session.execute(sa.text("SELECT 1"))
        session.commit()
        session.rollback()
        session.close()
        assert connection.in_atomic_block
        assert DbNode.objects.filter(label="kept-open").exists()
        raise RuntimeError
    assert not DbNode.objects.filter(label="kept-open").exists()


@pytest.mark.django_db(transaction=True)
def test_query_sees_committed_rows_in_a_transactional_test(graph):
    graph.node(label="committed")
    assert not connection.in_atomic_block
    assert count_nodes("committed") == 1


@pytest.mark.django_db(transaction=True)
def test_each_thread_reads_through_its_own_django_connection(graph):
    graph.node(label="shared")
    seen: dict[str, object] = {}

    def read() -> None:
        try:
            seen["count"] = count_nodes("shared")
            raw = get_scoped_session()().connection().connection.dbapi_connection
            seen["same"] = raw.dbapi_connection is connections["default"].connection
        finally:
            connections.close_all()

    worker = threading.Thread(target=read)
    worker.start()
    worker.join()
    assert seen == {"count": 1, "same": True}
    main_raw = get_scoped_session()().connection().connection.dbapi_connection
    assert main_raw.dbapi_connection is connection.connection
    get_scoped_session()().close()


@pytest.mark.django_db
def test_engine_is_built_once_per_alias_and_options_pass_through():
    engine = get_engine("default", echo=True)
    assert engine.echo is True
    assert get_engine("default") is engine
    assert get_scoped_session("default").session_factory.kw["bind"] is engine
    rebuilt = get_engine("default", echo=False)
    assert rebuilt is not engine
    assert rebuilt.echo is False


def test_engine_options_that_replace_the_connection_are_refused():
    with pytest.raises(InputValidationError, match="creator"):
        get_engine("default", creator=lambda: None)


@pytest.fixture
def second_alias(tmp_path):
    connections.settings["second"] = {
        **connections["default"].settings_dict,
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(tmp_path / "second.sqlite3"),
        "OPTIONS": {},
    }
    yield "second"
    reset_session("second")
    connections["second"].close()
    del connections.settings["second"]
    delattr(connections._connections, "second")


def test_aliases_never_share_an_engine(second_alias):
    first, second = get_engine("default"), get_engine(second_alias)
    assert first is not second
    assert get_scoped_session(second_alias) is not get_scoped_session("default")
    reset_session(second_alias)
    assert get_engine("default") is first
    assert get_engine(second_alias) is not second


def test_reset_session_disposes_every_engine():
    engine = get_engine()
    reset_session()
    assert get_engine() is not engine


def test_database_url_keeps_special_characters_in_the_password(tmp_path):
    password = "p@ss:w/rd%?#&"
    connections.settings["remote"] = {
        **connections["default"].settings_dict,
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "graph",
        "USER": "aiida user",
        "PASSWORD": password,
        "HOST": "db.example.org",
        "PORT": "5433",
        "OPTIONS": {},
    }
    try:
        url = database_url("remote")
    finally:
        del connections.settings["remote"]
    assert url.password == password
    parsed = make_url(url.render_as_string(hide_password=False))
    assert (parsed.username, parsed.password) == ("aiida user", password)
    assert (parsed.host, parsed.port, parsed.database) == (
        "db.example.org",
        5433,
        "graph",
    )
    assert parsed.drivername == "postgresql+psycopg2"


@pytest.mark.django_db(transaction=True)
def test_standalone_engine_from_database_url_reads_committed_rows(graph):
    if connection.vendor == "sqlite" and "mode=memory" in str(
        connection.settings_dict["NAME"]
    ):
        pytest.skip("an in-memory test database has no file to open")
    graph.node(label="standalone")
    engine = sa.create_engine(database_url())
    try:
        with engine.connect() as conn:
            node = get_tables().node
            count = conn.execute(
                sa.select(sa.func.count()).where(node.c.label == "standalone")
            ).scalar_one()
    finally:
        engine.dispose()
    assert count == 1
