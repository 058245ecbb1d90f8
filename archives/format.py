"""The AiiDA archive format (``core.sqlite_zip``, version ``main_0001``).

An archive is a zip holding ``metadata.json``, ``db.sqlite3`` (AiiDA's own
tables) and one ``repo/<sha256>`` entry per file object. Dates in
``db.sqlite3`` are naive UTC; UUIDs are text with dashes; JSON columns are text.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import sqlite3
from typing import Any

EXPORT_VERSION = "main_0001"
# main_0000 differs only in nullable columns (``archives.reader.fill_nulls``).
SUPPORTED_VERSIONS = frozenset({"main_0000", EXPORT_VERSION})
KEY_FORMAT = "sha256"
METADATA_NAME = "metadata.json"
DATABASE_NAME = "db.sqlite3"
REPO_PREFIX = "repo/"

# The traversal rules AiiDA records by default; exports follow them.
EXPORT_RULES = {
    "input_calc_forward": False,
    "input_calc_backward": True,
    "create_forward": True,
    "create_backward": True,
    "return_forward": True,
    "return_backward": False,
    "input_work_forward": False,
    "input_work_backward": True,
    "call_calc_forward": True,
    "call_calc_backward": True,
    "call_work_forward": True,
    "call_work_backward": True,
}

# The tables of the archive's db.sqlite3, as aiida-core reads them.
SCHEMA = """
CREATE TABLE db_dbcomputer (
    id INTEGER NOT NULL PRIMARY KEY,
    uuid VARCHAR(32) NOT NULL UNIQUE,
    label VARCHAR(255) NOT NULL UNIQUE,
    hostname VARCHAR(255) NOT NULL,
    description TEXT NOT NULL,
    scheduler_type VARCHAR(255) NOT NULL,
    transport_type VARCHAR(255) NOT NULL,
    metadata JSON NOT NULL
);
CREATE TABLE db_dbsetting (
    id INTEGER NOT NULL PRIMARY KEY,
    "key" VARCHAR(1024) NOT NULL UNIQUE,
    val JSON,
    description TEXT NOT NULL,
    time DATETIME NOT NULL
);
CREATE TABLE db_dbuser (
    id INTEGER NOT NULL PRIMARY KEY,
    email VARCHAR(254) NOT NULL UNIQUE,
    first_name VARCHAR(254) NOT NULL,
    last_name VARCHAR(254) NOT NULL,
    institution VARCHAR(254) NOT NULL
);
CREATE TABLE db_dbauthinfo (
    id INTEGER NOT NULL PRIMARY KEY,
    aiidauser_id INTEGER NOT NULL REFERENCES db_dbuser (id),
    dbcomputer_id INTEGER NOT NULL REFERENCES db_dbcomputer (id),
    metadata JSON NOT NULL,
    auth_params JSON NOT NULL,
    enabled BOOLEAN NOT NULL,
    UNIQUE (aiidauser_id, dbcomputer_id)
);
CREATE TABLE db_dbgroup (
    id INTEGER NOT NULL PRIMARY KEY,
    uuid VARCHAR(32) NOT NULL UNIQUE,
    label VARCHAR(255) NOT NULL,
    type_string VARCHAR(255) NOT NULL,
    time DATETIME NOT NULL,
    description TEXT NOT NULL,
    extras JSON NOT NULL,
    user_id INTEGER NOT NULL REFERENCES db_dbuser (id),
    UNIQUE (label, type_string)
);
CREATE TABLE db_dbnode (
    id INTEGER NOT NULL PRIMARY KEY,
    uuid VARCHAR(32) NOT NULL UNIQUE,
    node_type VARCHAR(255) NOT NULL,
    process_type VARCHAR(255),
    label VARCHAR(255) NOT NULL,
    description TEXT NOT NULL,
    ctime DATETIME NOT NULL,
    mtime DATETIME NOT NULL,
    attributes JSON,
    extras JSON,
    repository_metadata JSON NOT NULL,
    dbcomputer_id INTEGER REFERENCES db_dbcomputer (id),
    user_id INTEGER NOT NULL REFERENCES db_dbuser (id)
);
CREATE TABLE db_dbcomment (
    id INTEGER NOT NULL PRIMARY KEY,
    uuid VARCHAR(32) NOT NULL UNIQUE,
    dbnode_id INTEGER NOT NULL REFERENCES db_dbnode (id),
    ctime DATETIME NOT NULL,
    mtime DATETIME NOT NULL,
    user_id INTEGER NOT NULL REFERENCES db_dbuser (id),
    content TEXT NOT NULL
);
CREATE TABLE db_dbgroup_dbnodes (
    id INTEGER NOT NULL PRIMARY KEY,
    dbnode_id INTEGER NOT NULL REFERENCES db_dbnode (id),
    dbgroup_id INTEGER NOT NULL REFERENCES db_dbgroup (id),
    UNIQUE (dbgroup_id, dbnode_id)
);
CREATE TABLE db_dblink (
    id INTEGER NOT NULL PRIMARY KEY,
    input_id INTEGER NOT NULL REFERENCES db_dbnode (id),
    output_id INTEGER NOT NULL REFERENCES db_dbnode (id),
    label VARCHAR(255) NOT NULL,
    type VARCHAR(255) NOT NULL
);
CREATE TABLE db_dblog (
    id INTEGER NOT NULL PRIMARY KEY,
    uuid VARCHAR(32) NOT NULL UNIQUE,
    time DATETIME NOT NULL,
    loggername VARCHAR(255) NOT NULL,
    levelname VARCHAR(50) NOT NULL,
    dbnode_id INTEGER NOT NULL REFERENCES db_dbnode (id),
    message TEXT NOT NULL,
    metadata JSON NOT NULL
);
CREATE INDEX ix_db_dbnode_node_type ON db_dbnode (node_type);
CREATE INDEX ix_db_dblink_input_id ON db_dblink (input_id);
CREATE INDEX ix_db_dblink_output_id ON db_dblink (output_id);
CREATE INDEX ix_db_dbgroup_dbnodes_dbnode_id ON db_dbgroup_dbnodes (dbnode_id);
"""


_OBJECT_KEY = re.compile(r"[0-9a-f]{64}")


def is_object_key(key: object) -> bool:
    """Whether ``key`` is a file object's key: 64 lowercase hex digits."""
    return isinstance(key, str) and _OBJECT_KEY.fullmatch(key) is not None


@functools.cache
def table_columns() -> dict[str, frozenset[str]]:
    """``{table: its column names}`` of :data:`SCHEMA`."""
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(SCHEMA)
        tables = [
            row[0]
            for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return {
            table: frozenset(
                row[1] for row in db.execute(f"PRAGMA table_info({table})")
            )
            for table in tables
        }
    finally:
        db.close()


def parse_time(value: str | None) -> dt.datetime | None:
    """An archive's naive UTC timestamp as an aware datetime."""
    if value is None:
        return None
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def format_time(value: dt.datetime) -> str:
    """An aware datetime as the archive's naive UTC text."""
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")


def parse_json(value: str | None, default: Any) -> Any:
    if value is None:
        return default
    return json.loads(value)


def dump_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
