"""Hostile archives built from a valid one: each case damages one thing.

A case is a name, a change to the archive's ``db.sqlite3`` (SQL run on a
copy) or to its members, and the words the refusal must contain. Tables a
case breaks are first rebuilt without constraints, so NULLs and duplicates
that AiiDA's schema would refuse can be written.
"""

from __future__ import annotations

import json
import sqlite3
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Case:
    name: str
    expected: str
    sql: tuple[str, ...] = ()
    loosen: tuple[str, ...] = ()
    members: dict[str, bytes] = field(default_factory=dict)
    damage: Callable[[Path], None] | None = None

    def __str__(self) -> str:
        return self.name


def loosen_table(db: sqlite3.Connection, table: str) -> None:
    """Rebuild ``table`` with the same columns and no constraints."""
    db.executescript(
        f"CREATE TABLE loose AS SELECT * FROM {table}; DROP TABLE {table}; "
        f"CREATE TABLE {table} AS SELECT * FROM loose; DROP TABLE loose;"
    )


def build(base: Path, target: Path, case: Case) -> Path:
    """A copy of the archive ``base`` at ``target`` with ``case`` applied."""
    work = target.with_suffix(".sqlite3")
    with zipfile.ZipFile(base) as source:
        work.write_bytes(source.read("db.sqlite3"))
        db = sqlite3.connect(work)
        for table in case.loosen:
            loosen_table(db, table)
        for statement in case.sql:
            db.execute(statement)
        db.commit()
        db.close()
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
            for info in source.infolist():
                if info.filename == "db.sqlite3":
                    copy.write(work, "db.sqlite3")
                elif info.filename in case.members:
                    copy.writestr(info.filename, case.members[info.filename])
                else:
                    # Stored, so a case can damage a member's bytes in place.
                    copy.writestr(
                        info.filename,
                        source.read(info.filename),
                        compress_type=zipfile.ZIP_STORED,
                    )
    work.unlink()
    if case.damage is not None:
        case.damage(target)
    return target


def flip_byte_of_first_object(archive: Path) -> None:
    """Change one byte of the first ``repo/`` member without fixing its CRC."""
    with zipfile.ZipFile(archive) as source:
        info = next(i for i in source.infolist() if i.filename.startswith("repo/"))
    raw = bytearray(archive.read_bytes())
    # The local header: 30 bytes, then the name and extra field it sizes.
    name_length, extra_length = struct.unpack_from("<HH", raw, info.header_offset + 26)
    raw[info.header_offset + 30 + name_length + extra_length] ^= 0xFF
    archive.write_bytes(bytes(raw))


FIRST_NODE = "(SELECT MIN(id) FROM db_dbnode)"
FIRST_DATA = "(SELECT MIN(id) FROM db_dbnode WHERE node_type LIKE 'data.%')"
ONE_KEY = (
    "(SELECT json_extract(repository_metadata, '$.o.' || "
    "(SELECT key FROM json_each(json_extract(repository_metadata, '$.o')) "
    "LIMIT 1) || '.k') FROM db_dbnode "
    "WHERE json_extract(repository_metadata, '$.o') IS NOT NULL LIMIT 1)"
)


def node_update(assignment: str, node: str = FIRST_NODE) -> str:
    return f"UPDATE db_dbnode SET {assignment} WHERE id = {node}"


def tree_with_name(name: str) -> str:
    return node_update(
        "repository_metadata = json_object('o', json_object("
        f"{json.dumps(name)}, json_object('k', {ONE_KEY})))",
        FIRST_DATA,
    )


RECURSIVE_VIEW = (
    "CREATE VIEW db_dbnode AS WITH RECURSIVE r(n) AS "
    "(SELECT 1 UNION ALL SELECT n + 1 FROM r) "
    "SELECT n AS id, '' AS uuid, '' AS node_type, NULL AS process_type, "
    "'' AS label, '' AS description, '' AS ctime, '' AS mtime, "
    "'{}' AS attributes, '{}' AS extras, '{}' AS repository_metadata, "
    "NULL AS dbcomputer_id, 1 AS user_id FROM r"
)
# A data node that a calculation creates becomes that calculation's input.
CYCLE_LINK = (
    "INSERT INTO db_dblink (input_id, output_id, label, type) "
    "SELECT output_id, input_id, 'loop', 'input_calc' FROM db_dblink "
    "WHERE type = 'create' LIMIT 1"
)

CASES = [
    Case("metadata-is-a-list", "not a JSON object", members={"metadata.json": b"[]"}),
    Case(
        "metadata-deep",
        "metadata.json",
        members={"metadata.json": b"[" * 100_000 + b"]" * 100_000},
    ),
    Case("missing-table", "no table db_dblink", sql=("DROP TABLE db_dblink",)),
    Case(
        "missing-column",
        "lacks column(s) label",
        sql=("ALTER TABLE db_dbnode DROP COLUMN label",),
        loosen=("db_dbnode",),
    ),
    Case(
        "recursive-view",
        "db_dbnode is not a plain table",
        sql=("DROP TABLE db_dbnode", RECURSIVE_VIEW),
    ),
    Case(
        "null-uuid",
        "db_dbnode row",
        sql=(node_update("uuid = NULL"),),
        loosen=("db_dbnode",),
    ),
    Case("invalid-uuid", "is not a UUID", sql=(node_update("uuid = 'not-a-uuid'"),)),
    Case(
        "duplicate-uuid",
        "uuid appears twice",
        sql=(
            "UPDATE db_dbnode SET uuid = (SELECT uuid FROM db_dbnode WHERE id = "
            f"{FIRST_NODE}) WHERE id = (SELECT MAX(id) FROM db_dbnode)",
        ),
        loosen=("db_dbnode",),
    ),
    Case(
        "null-ctime",
        "ctime must be a datetime",
        sql=(node_update("ctime = NULL"),),
        loosen=("db_dbnode",),
    ),
    Case("bad-ctime", "is not a time", sql=(node_update("ctime = 'yesterday'"),)),
    Case(
        "nan-attribute",
        "cannot be stored",
        sql=(node_update("""attributes = '{"x": NaN}'"""),),
    ),
    Case(
        "deep-attributes",
        "nested too deeply",
        sql=(
            node_update(f"""attributes = '{{"x": {"[" * 100_000}{"]" * 100_000}}}'"""),
        ),
    ),
    Case(
        "attributes-a-list",
        "attributes must be a JSON object",
        sql=(node_update("attributes = '[1, 2]'"),),
    ),
    Case(
        "attributes-not-json",
        "attributes is not valid JSON",
        sql=(node_update("attributes = '{x'"),),
    ),
    Case("extras-nul", "NUL", sql=(node_update("""extras = '{"a": "\\u0000"}'"""),)),
    Case(
        "long-label",
        "longer than 255",
        sql=(node_update("label = printf('%.100000c', 'x')"),),
    ),
    Case("nul-label", "NUL", sql=(node_update("label = 'a' || char(0) || 'b'"),)),
    Case(
        "null-label",
        "label must be a string",
        sql=(node_update("label = NULL"),),
        loosen=("db_dbnode",),
    ),
    Case("empty-node-type", "invalid node_type", sql=(node_update("node_type = ''"),)),
    Case(
        "evil-node-type",
        "invalid node_type",
        sql=(node_update("node_type = '../../evil.'"),),
    ),
    Case(
        "process-type-on-data",
        "only process nodes",
        sql=(node_update("process_type = 'x'", FIRST_DATA),),
    ),
    Case("unknown-user", "refers to user", sql=(node_update("user_id = 999999"),)),
    Case(
        "bad-tree",
        "not a serialized file entry",
        sql=(node_update("""repository_metadata = '{"o": {"f": {"k": 5}}}'"""),),
    ),
    Case(
        "tree-a-list",
        "repository_metadata must be a JSON object",
        sql=(node_update("repository_metadata = '[]'"),),
    ),
    Case(
        "tree-name-traversal",
        "may not contain '/'",
        sql=(tree_with_name("../../etc/passwd"),),
    ),
    Case("tree-name-empty", "invalid file name", sql=(tree_with_name(""),)),
    Case("tree-name-dot", "invalid file name", sql=(tree_with_name("."),)),
    Case("tree-name-slash", "may not contain '/'", sql=(tree_with_name("a/b"),)),
    Case(
        "tree-key-not-a-hash",
        "is not a SHA-256 key",
        sql=(
            node_update("""repository_metadata = '{"o": {"f": {"k": "../../x"}}}'"""),
        ),
    ),
    Case("object-bad-crc", "is damaged", damage=flip_byte_of_first_object),
    Case(
        "link-type-bogus",
        "invalid link type 'bogus'",
        sql=("UPDATE db_dblink SET type = 'bogus'",),
    ),
    Case(
        "link-label-invalid",
        "invalid link label",
        sql=("UPDATE db_dblink SET label = '../x'",),
    ),
    Case(
        "link-label-too-long",
        "at most 255 characters",
        sql=("UPDATE db_dblink SET label = printf('%.300c', 'x')",),
    ),
    Case(
        "link-to-missing-node",
        "refers to node 999999",
        sql=("UPDATE db_dblink SET output_id = 999999",),
    ),
    Case("link-self", "to itself", sql=("UPDATE db_dblink SET output_id = input_id",)),
    Case(
        "link-wrong-kinds",
        "a create link goes from a calculation",
        sql=("UPDATE db_dblink SET type = 'create' WHERE type = 'input_calc'",),
    ),
    Case("provenance-cycle", "provenance cycle", sql=(CYCLE_LINK,)),
    Case(
        "null-email",
        "db_dbuser row",
        sql=("UPDATE db_dbuser SET email = NULL",),
        loosen=("db_dbuser",),
    ),
    Case(
        "group-null-label",
        "db_dbgroup row",
        sql=("UPDATE db_dbgroup SET label = NULL",),
        loosen=("db_dbgroup",),
    ),
    Case(
        "group-nul-type",
        "NUL",
        sql=("UPDATE db_dbgroup SET type_string = 'core' || char(0)",),
    ),
    Case(
        "group-bad-time", "db_dbgroup row", sql=("UPDATE db_dbgroup SET time = 'soon'",)
    ),
    Case(
        "membership-missing-node",
        "db_dbgroup_dbnodes row",
        sql=(
            "UPDATE db_dbgroup_dbnodes SET dbnode_id = 999999 "
            "WHERE id = (SELECT MIN(id) FROM db_dbgroup_dbnodes)",
        ),
    ),
]
