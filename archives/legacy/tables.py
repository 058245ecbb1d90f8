"""Converting a legacy archive into the tables of a ``main_0001`` database.

Two passes, both in bounded memory. The first streams ``data.json`` and the
node folders into staging tables (a second SQLite file, attached as
``stage``), as they come. The second reads them back in the order the
relations need (users, computers, nodes, groups, links, memberships, logs,
comments), converts each record (``convert``) and writes the ``main_0001``
rows, as aiida-core's ``legacy_to_main`` does.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from aiidasite.exceptions import CorruptArchive
from archives import format as fmt
from archives.legacy import convert
from archives.legacy.data_json import Record, records
from archives.legacy.source import LegacySource

BATCH = 5_000
# Page cache per scratch database: the joins of the second pass stay in
# memory up to this, then spill to disk (bounded either way).
CACHE_KIB = 32 * 1024

STAGE_SCHEMA = """
CREATE TABLE stage.entity (kind TEXT NOT NULL, pk INTEGER NOT NULL, fields TEXT);
CREATE TABLE stage.node (pk INTEGER PRIMARY KEY, uuid TEXT, fields TEXT NOT NULL);
CREATE TABLE stage.node_attributes (pk INTEGER PRIMARY KEY, value TEXT);
CREATE TABLE stage.node_extras (pk INTEGER PRIMARY KEY, value TEXT);
CREATE TABLE stage.node_attributes_conversion (pk INTEGER PRIMARY KEY, value TEXT);
CREATE TABLE stage.node_extras_conversion (pk INTEGER PRIMARY KEY, value TEXT);
CREATE TABLE stage.link (
    seq INTEGER PRIMARY KEY, input TEXT, output TEXT, label TEXT, type TEXT
);
CREATE TABLE stage.member (group_uuid TEXT NOT NULL, node_uuid TEXT NOT NULL);
CREATE TABLE stage.file (uuid TEXT NOT NULL, path TEXT, key TEXT, member TEXT);
CREATE TABLE stage.node_type (
    uuid TEXT PRIMARY KEY, id INTEGER NOT NULL, original TEXT, converted TEXT
);
CREATE TABLE stage.repo (uuid TEXT PRIMARY KEY, metadata TEXT NOT NULL);
"""
ENTITIES = ("User", "Computer", "Group", "Log", "Comment")


def dump(value: Any) -> str:
    if not value and type(value) is dict:
        return "{}"  # most nodes' file trees and extras
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def now_text() -> str:
    """What aiida-core's ``main_0000a`` puts where an archive has no time."""
    return convert.archive_time(dt.datetime.now(dt.UTC).isoformat())


class LegacyTables:
    """Fills ``db`` (``format.SCHEMA``) from ``source``; ``notes`` names what
    could not be kept (links and memberships left out, with why).

    :raises CorruptArchive: ``data.json`` is missing or broken, a record is
        malformed, a node's folder is missing, or a link names a node the
        archive lacks (unless ``skip_dangling_links``).
    """

    def __init__(
        self,
        source: LegacySource,
        version: convert.Version,
        db: sqlite3.Connection,
        stage_path: Path,
        *,
        skip_dangling_links: bool = False,
        progress: bool = False,
    ) -> None:
        self.source = source
        self.version = version
        self.db = db
        self.skip_dangling_links = skip_dangling_links
        self.progress = progress
        self.notes: list[str] = []
        self.untimed: Counter[str] = Counter()
        db.execute("ATTACH DATABASE ? AS stage", (str(stage_path),))
        # Scratch files, thrown away on any error: no journal, no syncing.
        for schema in ("main", "stage"):
            db.execute(f"PRAGMA {schema}.journal_mode = OFF")
            db.execute(f"PRAGMA {schema}.synchronous = OFF")
            db.execute(f"PRAGMA {schema}.cache_size = -{CACHE_KIB}")
        # After the pragmas: each statement of a script on a synced file
        # would wait for the disk.
        db.executescript(fmt.SCHEMA + STAGE_SCHEMA)

    def build(self) -> None:
        self.stage_data()
        self.stage_files()
        self.write_users()
        self.write_computers()
        self.write_nodes()
        self.write_groups()
        self.write_links()
        self.write_memberships()
        self.write_logs()
        self.write_comments()
        self.db.execute("CREATE INDEX stage.file_key ON file (key)")
        self.db.commit()
        for what, count in sorted(self.untimed.items()):
            self.notes.append(
                f"{count} {what}(s) missing: given the time of this import, "
                "as aiida-core's migration does"
            )

    def timed(self, value: Any, what: str) -> str:
        """An archive's time as ``main_0001`` text; a missing one is the
        import's time, as aiida-core's migration gives it, and counted for
        the summary.

        :raises ValueError: the time is not one.
        """
        found = convert.archive_time(value)
        if found:
            return found
        self.untimed[what] += 1
        return now_text()

    def insert(self, table: str, rows: Iterable[tuple]) -> None:
        for chunk in batched(rows):
            marks = ",".join("?" * len(chunk[0]))
            try:
                self.db.executemany(f"INSERT INTO {table} VALUES ({marks})", chunk)
            except sqlite3.IntegrityError as exc:
                raise CorruptArchive(f"data.json: {table}: {exc}") from None

    # --- first pass: staging -----------------------------------------------

    def stage_data(self) -> None:
        """``data.json`` record by record into the staging tables."""
        with (
            self.source.open_data() as handle,
            tqdm(
                total=self.source.data_size(),
                desc="Reading data.json",
                unit="B",
                unit_scale=True,
                disable=not self.progress,
            ) as bar,
        ):
            self.insert_staged(records(CountingReader(handle, bar)))

    def insert_staged(self, stream: Iterator) -> None:
        pending: dict[str, list[tuple]] = {}
        for record in stream:
            table, row = self.staged_row(record)
            if table is None:
                continue
            rows = pending.setdefault(table, [])
            rows.append(row)
            if len(rows) >= BATCH:
                self.insert(table, rows)
                rows.clear()
        for table, rows in pending.items():
            self.insert(table, rows)

    def staged_row(self, record: Record) -> tuple[str | None, tuple]:
        """The staging table and row of one ``data.json`` record; records
        are staged as the file has their text (``Record.text``)."""
        section, keys, value, text = record
        if section == "links_uuid":
            if not isinstance(value, dict):
                raise CorruptArchive(f"data.json: a link is not an object: {value!r}")
            return "stage.link", (
                None,
                value.get("input"),
                value.get("output"),
                value.get("label"),
                value.get("type"),
            )
        if section == "groups_uuid":
            return "stage.member", (keys[0], value)
        if section == "export_data":
            name, pk = convert.entity_name(keys[0]), self.pk(keys[1], keys[0])
            if not isinstance(value, dict):
                raise CorruptArchive(f"data.json: {name} {pk} is not an object")
            if name == "Node":
                return "stage.node", (pk, value.get("uuid"), text)
            if name in ENTITIES:
                return "stage.entity", (name, pk, text)
            self.notes.append(f"{name} {pk}: this kind of entity is not imported")
            return None, ()
        return f"stage.{section}", (self.pk(keys[0], section), text)

    @staticmethod
    def pk(text: Any, where: str) -> int:
        try:
            return int(text)
        except (TypeError, ValueError):
            raise CorruptArchive(f"data.json: {where}: {text!r} is not a pk") from None

    def stage_files(self) -> None:
        """Each node folder entry; then each node's file tree."""
        self.insert(
            "stage.file",
            ((*entry, member) for entry, member in self.source.node_entries()),
        )
        rows = self.db.execute("SELECT uuid, path, key FROM stage.file ORDER BY uuid")
        self.insert(
            "stage.repo",
            (
                (uuid, dump(repository_metadata((path, key) for _, path, key in group)))
                for uuid, group in itertools.groupby(rows, key=lambda row: row[0])
            ),
        )

    # --- second pass: the main_0001 tables ----------------------------------

    def staged(self, kind: str) -> Iterator[tuple[int, dict[str, Any]]]:
        sql = "SELECT pk, fields FROM stage.entity WHERE kind = ? ORDER BY pk"
        for pk, fields in self.db.execute(sql, (kind,)).fetchall():
            yield pk, json.loads(fields)

    def write_users(self) -> None:
        self.insert(
            "db_dbuser",
            (
                (
                    pk,
                    fields.get("email"),
                    fields.get("first_name") or "",
                    fields.get("last_name") or "",
                    fields.get("institution") or "",
                )
                for pk, fields in self.staged("User")
            ),
        )

    def write_computers(self) -> None:
        rows = []
        for pk, fields in self.staged("Computer"):
            try:
                fields = convert.computer(self.version, fields)
            except ValueError as exc:
                raise CorruptArchive(f"data.json: computer {pk}: {exc}") from None
            rows.append(
                (
                    pk,
                    fields.get("uuid"),
                    fields.get("label"),
                    fields.get("hostname") or "",
                    fields.get("description") or "",
                    fields.get("scheduler_type") or "",
                    fields.get("transport_type") or "",
                    dump(fields.get("metadata") or {}),
                )
            )
        self.insert("db_dbcomputer", rows)

    def write_nodes(self) -> None:
        sql = """
            SELECT n.pk, n.uuid, n.fields, a.value, e.value, ac.value, ec.value,
                   r.metadata
            FROM stage.node n
            LEFT JOIN stage.node_attributes a ON a.pk = n.pk
            LEFT JOIN stage.node_extras e ON e.pk = n.pk
            LEFT JOIN stage.node_attributes_conversion ac ON ac.pk = n.pk
            LEFT JOIN stage.node_extras_conversion ec ON ec.pk = n.pk
            LEFT JOIN stage.repo r ON r.uuid = n.uuid
            ORDER BY n.pk
        """
        cursor = self.db.cursor()
        cursor.execute(sql)
        total = self.db.execute("SELECT COUNT(*) FROM stage.node").fetchone()[0]
        bar = tqdm(total=total, desc="Converting nodes", disable=not self.progress)
        while batch := cursor.fetchmany(BATCH):
            bar.update(len(batch))
            nodes, types = [], []
            for row in batch:
                node, original = self.node_row(*row)
                nodes.append(node)
                types.append((node[1], node[0], original, node[2]))
            self.insert("db_dbnode", nodes)
            self.insert("stage.node_type", types)
        bar.close()

    def node_row(
        self,
        pk: int,
        uuid: str | None,
        fields: str,
        attributes: str | None,
        extras: str | None,
        attribute_conversion: str | None,
        extras_conversion: str | None,
        repository: str | None,
    ) -> tuple[tuple, str]:
        """A ``db_dbnode`` row and the node's type as the archive wrote it."""
        if not isinstance(uuid, str):
            raise CorruptArchive(f"data.json: node {pk} has no uuid")
        if attributes is None:
            raise CorruptArchive(f"data.json: node {uuid} has no attributes")
        if repository is None:
            folder = f"nodes/{uuid[:2]}/{uuid[2:4]}/{uuid[4:]}/"
            raise CorruptArchive(
                f"node {uuid}: its folder {folder} is not in the archive"
            )
        values = json.loads(fields)
        original = values.get("type", values.get("node_type"))
        try:
            if self.version < (0, 7):
                values, attrs, extra = convert.node(
                    self.version,
                    values,
                    json.loads(attributes),
                    json.loads(attribute_conversion or "null"),
                    json.loads(extras_conversion or "null"),
                    json.loads(extras or "{}"),
                )
                attributes, extras = dump(attrs), dump(extra)
            else:
                # From v0.7 on, only type strings change: the JSON passes as is.
                values, _, _ = convert.node(self.version, values, {})
            if self.version < (0, 4) and str(values.get("node_type")).endswith(
                "array.trajectory.TrajectoryData."
            ):
                attributes, repository = self.trajectory_symbols(
                    uuid, attributes, repository
                )
            ctime = self.timed(values.get("ctime"), "node ctime")
            mtime = self.timed(values.get("mtime"), "node mtime")
        except (ValueError, TypeError, AttributeError) as exc:
            raise CorruptArchive(f"data.json: node {uuid}: {exc}") from None
        if values.get("user") is None:
            raise CorruptArchive(f"data.json: node {uuid} has no user")
        row = (
            pk,
            uuid,
            values.get("node_type") or "",
            values.get("process_type"),
            values.get("label") or "",
            values.get("description") or "",
            ctime,
            mtime,
            attributes,
            extras or "{}",
            repository,
            values.get("dbcomputer"),
            values.get("user"),
        )
        return row, original or ""

    def trajectory_symbols(
        self, uuid: str, attributes: str, repository: str
    ) -> tuple[str, str]:
        """A trajectory's symbols move from its ``symbols.npy`` file into the
        ``symbols`` attribute (v0.3 -> v0.4, database migrations 0026-0027);
        the file goes."""
        import numpy

        row = self.db.execute(
            "SELECT key, member FROM stage.file WHERE uuid = ? AND path = ?",
            (uuid, "symbols.npy"),
        ).fetchone()
        if row is None:
            raise ValueError("a trajectory without its symbols.npy")
        with self.source.open_object(row[1], row[0]) as handle:
            symbols = numpy.load(io.BytesIO(handle.read()), allow_pickle=False)
        values = json.loads(attributes)
        values.pop("array|symbols", None)
        values["symbols"] = symbols.tolist()
        tree = json.loads(repository)
        tree.get("o", {}).pop("symbols.npy", None)
        return dump(values), dump(tree if tree.get("o") else {})

    def write_groups(self) -> None:
        rows = []
        for pk, fields in self.staged("Group"):
            fields = convert.group(self.version, fields)
            try:
                time = self.timed(fields.get("time"), "group time")
            except (ValueError, TypeError) as exc:
                raise CorruptArchive(f"data.json: group {pk}: {exc}") from None
            rows.append(
                (
                    pk,
                    fields.get("uuid"),
                    fields.get("label"),
                    fields.get("type_string") or "core",
                    time,
                    fields.get("description") or "",
                    dump(fields.get("extras") or {}),
                    fields.get("user"),
                )
            )
        self.insert("db_dbgroup", rows)

    def write_links(self) -> None:
        sql = """
            SELECT l.seq, l.input, l.output, l.label, l.type,
                   a.id, a.original, a.converted, b.id, b.original, b.converted
            FROM stage.link l
            LEFT JOIN stage.node_type a ON a.uuid = l.input
            LEFT JOIN stage.node_type b ON b.uuid = l.output
            ORDER BY l.seq
        """
        cursor = self.db.cursor()
        cursor.execute(sql)
        while batch := cursor.fetchmany(BATCH):
            rows = []
            for seq, source, target, label, kind, *ends in batch:
                found = {
                    "input": source,
                    "output": target,
                    "label": label,
                    "type": kind,
                }
                if ends[0] is None or ends[3] is None:
                    self.dangling(found, source if ends[0] is None else target)
                    continue
                link = convert.link(
                    self.version, found, (ends[1], ends[2]), (ends[4], ends[5])
                )
                if link is None:
                    self.notes.append(
                        f"link {describe(found)} left out: AiiDA 1.0's provenance "
                        "rules forbid it"
                    )
                    continue
                rows.append((seq, ends[0], ends[3], link["label"], link["type"]))
            self.insert("db_dblink", rows)

    def dangling(self, link: dict[str, Any], missing: str) -> None:
        message = f"link {describe(link)}: node {missing} is not in the archive"
        if not self.skip_dangling_links:
            raise CorruptArchive(
                f"{message}; use --skip-dangling-links to import the rest"
            )
        self.notes.append(f"skipped {message}")

    def write_memberships(self) -> None:
        self.db.execute(
            """
            INSERT OR IGNORE INTO db_dbgroup_dbnodes (dbnode_id, dbgroup_id)
            SELECT n.id, g.id FROM stage.member m
            JOIN db_dbgroup g ON g.uuid = m.group_uuid
            JOIN stage.node_type n ON n.uuid = m.node_uuid
            """
        )
        missing = self.db.execute(
            """
            SELECT m.group_uuid, m.node_uuid, g.id FROM stage.member m
            LEFT JOIN db_dbgroup g ON g.uuid = m.group_uuid
            LEFT JOIN stage.node_type n ON n.uuid = m.node_uuid
            WHERE g.id IS NULL OR n.id IS NULL
            """
        )
        for group_uuid, node_uuid, group_id in missing:
            absent = f"node {node_uuid}" if group_id else f"group {group_uuid}"
            self.notes.append(
                f"membership of node {node_uuid} in group {group_uuid} left out: "
                f"{absent} is not in the archive"
            )

    def write_logs(self) -> None:
        rows = []
        for pk, fields in self.staged("Log"):
            fields = convert.log(self.version, fields)
            rows.append(
                (
                    pk,
                    fields.get("uuid"),
                    self.time(fields.get("time"), "log", pk),
                    fields.get("loggername") or "",
                    fields.get("levelname") or "",
                    fields.get("dbnode"),
                    fields.get("message") or "",
                    dump(fields.get("metadata") or {}),
                )
            )
        self.insert("db_dblog", rows)

    def write_comments(self) -> None:
        rows = []
        for pk, fields in self.staged("Comment"):
            rows.append(
                (
                    pk,
                    fields.get("uuid"),
                    fields.get("dbnode"),
                    self.time(fields.get("ctime"), "comment", pk),
                    self.time(fields.get("mtime"), "comment", pk),
                    fields.get("user"),
                    fields.get("content") or "",
                )
            )
        self.insert("db_dbcomment", rows)

    def time(self, value: Any, kind: str, pk: int) -> str:
        try:
            return self.timed(value, f"{kind} time")
        except (ValueError, TypeError) as exc:
            raise CorruptArchive(f"data.json: {kind} {pk}: {exc}") from None


class CountingReader:
    """A binary stream that moves a progress bar by the bytes read from it."""

    def __init__(self, handle: IO[bytes], bar: tqdm) -> None:
        self.handle, self.bar = handle, bar

    def read(self, size: int = -1) -> bytes:
        block = self.handle.read(size)
        self.bar.update(len(block))
        return block


def describe(link: dict[str, Any]) -> str:
    return (
        f"{link.get('label')!r} ({link.get('type') or 'untyped'}) "
        f"from {link.get('input')} to {link.get('output')}"
    )


def repository_metadata(entries: Iterable[tuple[str | None, str | None]]) -> dict:
    """The serialized file tree (``{"o": {name: {"k": key} | {"o": ...}}}``,
    ``{}`` when empty, as aiida-core's ``File.serialize``) of a node's
    (path, key) entries; a key of None is a directory.

    :raises CorruptArchive: a path is both a file and a folder.
    """
    root: dict[str, Any] = {}
    for path, key in entries:
        if path is None:
            continue
        *folders, name = path.split("/")
        folder = root
        for part in folders:
            folder = folder.setdefault(part, {})
            if not isinstance(folder, dict):
                raise CorruptArchive(f"{path}: {part} is both a file and a folder")
        if key is None:
            if not isinstance(folder.setdefault(name, {}), dict):
                raise CorruptArchive(f"{path} is both a file and a folder")
        else:
            folder[name] = key
    return _serialize(root)


def _serialize(folder: dict[str, Any]) -> dict[str, Any]:
    if not folder:
        return {}
    return {
        "o": {
            name: _serialize(child) if isinstance(child, dict) else {"k": child}
            for name, child in folder.items()
        }
    }


def batched(rows: Iterable[tuple], size: int = BATCH) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
