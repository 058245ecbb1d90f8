"""Importing what hangs off users and nodes: computers, auth infos, comments
and log records.

Each function reads one table of the archive, maps the archive's ids to ours
through the maps the importer has built (``users``, ``computers``, ``nodes``:
archive id -> our pk) and stores what is new. They run inside the importer's
transaction, so a bad row leaves nothing behind. The rules follow
aiida-core's importer (``aiida.tools.archive.imports``): computers, comments
and logs are matched by UUID, an auth info by its (user, computer) pair, and
nothing that exists here is overwritten.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from aiidasite.exceptions import InputValidationError

# The importer's row checks (one mechanism for every table); imported as a
# module because the importer imports this one.
from archives import importer
from comments.models import DbComment
from computers.models import DbAuthInfo, DbComputer
from logs.models import DbLog
from nodes import bulk, validation

if TYPE_CHECKING:
    from archives.reader import ArchiveReader

COMMENT_COLUMNS = ("uuid", "dbnode_id", "ctime", "mtime", "user_id", "content")
LOG_COLUMNS = (
    "uuid",
    "time",
    "loggername",
    "levelname",
    "dbnode_id",
    "message",
    "metadata",
)
MAX_LEVELNAME = 50


def import_computers(
    archive: ArchiveReader, summary: importer.ImportSummary
) -> dict[int, int]:
    """Match or create each computer; ``{archive id: our pk}``.

    A computer whose UUID is new but whose label is taken here gets the
    first free ``label_N`` and is listed in ``summary.renamed_computers``.
    """
    found: dict[int, int] = {}
    for batch in archive.rows("SELECT * FROM db_dbcomputer ORDER BY id"):
        for row in batch:
            with importer.archive_row("db_dbcomputer", row):
                fields = clean_computer(row)
            found[row["id"]] = _computer_pk(fields, summary)
    return found


def clean_computer(row: Any) -> dict[str, Any]:
    """A computer row checked by the writers' rules.

    :raises InputValidationError: naming the first malformed field.
    """
    label = validation.clean_text(row["label"], "label", validation.MAX_LABEL)
    if not label.strip():
        raise InputValidationError("a computer needs a label")
    text = {
        name: validation.clean_text(row[name] or "", name, size)
        for name, size in (
            ("hostname", validation.MAX_LABEL),
            ("description", None),
            ("scheduler_type", validation.MAX_TYPE),
            ("transport_type", validation.MAX_TYPE),
        )
    }
    metadata = importer.parse_json(row["metadata"], "metadata")
    validation.clean_dict(metadata, "metadata")
    return {
        "uuid": validation.clean_uuid(row["uuid"]),
        "label": label,
        "metadata": metadata,
        **text,
    }


def _computer_pk(fields: dict[str, Any], summary: importer.ImportSummary) -> int:
    existing = DbComputer.objects.filter(uuid=fields["uuid"]).values_list(
        "pk", flat=True
    )
    if existing:
        summary.computers_existing += 1
        return existing[0]
    label = fields["label"]
    free, suffix = label, 0
    while DbComputer.objects.filter(label=free).exists():
        suffix += 1
        free = f"{label[: validation.MAX_LABEL - 8]}_{suffix}"
    if suffix:
        summary.renamed_computers.append(f"{label} -> {free}")
    summary.computers_new += 1
    return DbComputer.objects.create(**{**fields, "label": free}).pk


def import_authinfos(
    archive: ArchiveReader,
    summary: importer.ImportSummary,
    users: Mapping[int, int],
    computers: Mapping[int, int],
) -> None:
    """Store the archive's auth infos whose (user, computer) has none here;
    a local one is never replaced."""
    for batch in archive.rows("SELECT * FROM db_dbauthinfo ORDER BY id"):
        for row in batch:
            with importer.archive_row("db_dbauthinfo", row):
                user_id = mapped(users, row["aiidauser_id"], "user")
                computer_id = mapped(computers, row["dbcomputer_id"], "computer")
                auth_params = importer.parse_json(row["auth_params"], "auth_params")
                metadata = importer.parse_json(row["metadata"], "metadata")
                validation.clean_dict(auth_params, "auth_params")
                validation.clean_dict(metadata, "metadata")
            if DbAuthInfo.objects.filter(
                aiidauser_id=user_id, dbcomputer_id=computer_id
            ).exists():
                summary.authinfos_existing += 1
                continue
            DbAuthInfo.objects.create(
                aiidauser_id=user_id,
                dbcomputer_id=computer_id,
                auth_params=auth_params,
                metadata=metadata,
                enabled=bool(row["enabled"]),
            )
            summary.authinfos_new += 1


def import_comments(
    archive: ArchiveReader,
    summary: importer.ImportSummary,
    users: Mapping[int, int],
    nodes: Mapping[int, int],
) -> None:
    """Store the comments whose UUID is new here."""
    time = _time_column()

    def values(row: Any) -> tuple:
        return (
            validation.clean_uuid(row["uuid"]),
            mapped(nodes, row["dbnode_id"], "node"),
            time(row["ctime"], "ctime"),
            time(row["mtime"], "mtime"),
            mapped(users, row["user_id"], "user"),
            validation.clean_text(row["content"], "content"),
        )

    new, existing = _insert_new(
        archive, "db_dbcomment", DbComment, COMMENT_COLUMNS, values
    )
    summary.comments_new += new
    summary.comments_existing += existing


def import_logs(
    archive: ArchiveReader, summary: importer.ImportSummary, nodes: Mapping[int, int]
) -> None:
    """Store the log records whose UUID is new here."""
    time = _time_column()

    def values(row: Any) -> tuple:
        metadata = importer.parse_json(row["metadata"], "metadata")
        return (
            validation.clean_uuid(row["uuid"]),
            time(row["time"], "time"),
            validation.clean_text(row["loggername"], "loggername", validation.MAX_TYPE),
            validation.clean_text(row["levelname"], "levelname", MAX_LEVELNAME),
            mapped(nodes, row["dbnode_id"], "node"),
            validation.clean_text(row["message"], "message"),
            validation.dump_json(metadata, "metadata"),
        )

    new, existing = _insert_new(archive, "db_dblog", DbLog, LOG_COLUMNS, values)
    summary.logs_new += new
    summary.logs_existing += existing


def _insert_new(
    archive: ArchiveReader,
    table: str,
    model: Any,
    columns: tuple[str, ...],
    values: Callable[[Any], tuple],
) -> tuple[int, int]:
    """Insert the rows of ``table`` whose uuid is new; ``(new, existing)``."""
    new = existing = 0
    for batch in archive.rows(f"SELECT * FROM {table} ORDER BY id"):
        rows: dict[str, tuple] = {}
        for _, checked in importer.checked_rows(table, batch, values):
            rows[checked[0]] = checked
        for uuid in bulk.stored_uuids(model._meta.db_table, list(rows)):
            del rows[uuid]
            existing += 1
        bulk.insert_rows(model._meta.db_table, columns, list(rows.values()))
        new += len(rows)
    return new, existing


def mapped(ids: Mapping[int, int], archive_id: Any, kind: str) -> int:
    """Our pk of the archive's ``kind`` row ``archive_id``.

    :raises InputValidationError: if the archive does not hold it.
    """
    try:
        return ids[archive_id]
    except (KeyError, TypeError):
        raise InputValidationError(
            f"refers to {kind} {archive_id!r}, which the archive does not hold"
        ) from None


def _time_column() -> Callable[[Any, str], Any]:
    """A function from an archive's time text to the value our time column
    stores."""
    adapt = bulk.time_adapter()
    return lambda value, where: adapt(importer.parse_time(value, where))
