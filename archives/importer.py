"""Importing an AiiDA archive: users, computers, nodes, files, links,
groups, auth infos, comments and logs.

The import runs in one database transaction per archive and is idempotent by
UUID: what exists already is matched, never duplicated. A node whose UUID
exists with other content is a conflict and stops the import. Files go from
the zip into the repository (small ones in batches into packs, large ones
streamed) and are checked against their SHA-256 key; if anything fails, the
rows roll back and the objects this import added are removed again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from tqdm import tqdm

from aiidasite.exceptions import (
    AiidaSiteError,
    CorruptArchive,
    InputValidationError,
    StoringNotAllowed,
    UniquenessError,
)
from aiidasite.heap import long_lived_heap
from aiidasite.planner import refresh_statistics
from archives import format as fmt
from archives import related
from archives.reader import ArchiveReader, open_archive
from nodes import bulk, validation
from nodes import links as link_rules
from nodes.links import Link
from nodes.models import DbGroup, DbLink, DbNode
from nodes.services import links_check_acyclic, links_touching
from repository import get_backend, iter_keys
from repository.services import storing_objects
from users.models import UserProfile

# Rows compared to decide whether an existing UUID holds the same node.
IMMUTABLE_FIELDS = ("node_type", "process_type", "attributes", "repository_metadata")
# Objects up to this size are read whole and written to packs in batches;
# larger ones are streamed, so an archive never has to fit in memory.
SMALL_OBJECT = 4 * 1024 * 1024
# An error quotes at most this much of the value it refuses.
MAX_DETAIL = 300
# Node columns the importer writes: the service's, and the node's computer.
NODE_COLUMNS = (*bulk.NODE_COLUMNS, "dbcomputer_id")
# Archive tables the importer reads; rows in any other are named as not kept.
IMPORTED_TABLES = (
    "db_dbuser",
    "db_dbcomputer",
    "db_dbauthinfo",
    "db_dbnode",
    "db_dblink",
    "db_dbgroup",
    "db_dbgroup_dbnodes",
    "db_dbcomment",
    "db_dblog",
)


# Entity kinds with new and existing counts in a summary, in import order.
ENTITY_KINDS = (
    "users",
    "computers",
    "nodes",
    "links",
    "groups",
    "authinfos",
    "comments",
    "logs",
)


@dataclass
class ImportSummary:
    nodes_new: int = 0
    nodes_existing: int = 0
    links_new: int = 0
    links_existing: int = 0
    groups_new: int = 0
    groups_existing: int = 0
    memberships_new: int = 0
    files_new: int = 0
    files_existing: int = 0
    users_new: int = 0
    users_existing: int = 0
    computers_new: int = 0
    computers_existing: int = 0
    authinfos_new: int = 0
    authinfos_existing: int = 0
    comments_new: int = 0
    comments_existing: int = 0
    logs_new: int = 0
    logs_existing: int = 0
    renamed_groups: list[str] = field(default_factory=list)
    renamed_computers: list[str] = field(default_factory=list)
    # What the archive holds but the import left out, one line each.
    skipped: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(
            getattr(self, f"{kind}_new")
            for kind in (*ENTITY_KINDS, "memberships", "files")
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


ROW_ERRORS = (
    AiidaSiteError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    RecursionError,
)


@contextmanager
def archive_row(table: str, row: Any) -> Iterator[None]:
    """Turn whatever a malformed row of ``table`` raises into one
    :class:`CorruptArchive` line naming the row.

    The checks themselves are the API writers' (:mod:`nodes.validation`,
    :mod:`nodes.links`); this only says where the bad value came from.
    """
    try:
        yield
    except (UniquenessError, CorruptArchive):
        raise
    except ROW_ERRORS as exc:
        raise row_error(table, row, exc) from None


def checked_rows(
    table: str, rows: Iterable[Any], check: Callable[[Any], Any]
) -> Iterator[tuple[Any, Any]]:
    """``(row, check(row))`` for each row, errors named as by
    :func:`archive_row`: one handler around the loop, not a context per row
    (which costs more than some checks)."""
    row = None
    try:
        for row in rows:
            yield row, check(row)
    except (UniquenessError, CorruptArchive):
        raise
    except ROW_ERRORS as exc:
        raise row_error(table, row, exc) from None


def row_error(table: str, row: Any, exc: BaseException) -> CorruptArchive:
    detail = str(exc)
    if len(detail) > MAX_DETAIL:
        detail = detail[:MAX_DETAIL] + "..."
    return CorruptArchive(f"{describe_row(table, row)}: {detail}")


def describe_row(table: str, row: Any) -> str:
    """``db_dbnode row 7 (uuid ...)``: how errors name an archive row."""
    try:
        keys = row.keys()
    except AttributeError:
        return f"{table} row"
    text = f"{table} row {row['id']!r}" if "id" in keys else f"{table} row"
    if "uuid" in keys and isinstance(row["uuid"], str):
        text += f" (uuid {row['uuid'][:36]!r})"
    return text


# aiida-core's ProcessNode.CHECKPOINT_KEY.
PROCESS_CHECKPOINT = "checkpoints"


def without_private_extras(node_type: Any, extras: dict[str, Any]) -> dict[str, Any]:
    """A node's extras as aiida-core's import keeps them
    (``aiida.tools.archive.imports``): without its ``_aiida_*`` extras (the
    node's hash and others the source database kept for itself) and, for a
    code, without ``hidden``."""
    kept = {
        key: value for key, value in extras.items() if not key.startswith("_aiida_")
    }
    if str(node_type).endswith("code.Code."):
        kept.pop("hidden", None)
    return kept


def parse_json(value: Any, where: str) -> Any:
    """An archive's JSON column parsed; NULL as an empty object."""
    if value is None or value == "{}":
        return {}
    if not isinstance(value, str | bytes):
        raise InputValidationError(f"{where} is not JSON text")
    try:
        return json.loads(value)
    except RecursionError:
        raise InputValidationError(f"{where} is nested too deeply") from None
    except ValueError as exc:
        raise InputValidationError(f"{where} is not valid JSON ({exc})") from None


def parse_time(value: Any, where: str) -> Any:
    """An archive's time column as an aware datetime, checked as the API
    checks a ctime."""
    if not isinstance(value, str):
        raise InputValidationError(f"{where} must be a datetime, not {value!r}")
    try:
        parsed = fmt.parse_time(value)
    except (ValueError, OverflowError):
        raise InputValidationError(f"{where} {value[:40]!r} is not a time") from None
    return validation.clean_time(parsed, where)


class ArchiveImporter:
    """One import of one archive; ``run()`` does the work in order."""

    def __init__(
        self,
        archive: ArchiveReader,
        *,
        progress: bool = False,
        skip_dangling_links: bool = False,
    ) -> None:
        self.archive = archive
        self.progress = progress
        self.skip_dangling_links = skip_dangling_links
        self.backend = get_backend()
        self.time = bulk.time_adapter()
        self.summary = ImportSummary(skipped=list(getattr(archive, "notes", [])))
        self.users: dict[int, int] = {}
        self.computers: dict[int, int] = {}  # archive id -> our pk
        self.nodes: dict[int, int] = {}  # archive id -> our pk
        self.node_types: dict[int, str] = {}  # our pk -> node_type
        self.existing_nodes: set[int] = set()  # archive ids that were present
        self.required_keys: set[str] = set()
        self.added_keys: list[str] = []

    def bar(self, desc: str, total: int) -> tqdm:
        return tqdm(total=total, desc=desc, unit="", disable=not self.progress)

    def run(self) -> ImportSummary:
        if getattr(self.backend, "key_format", fmt.KEY_FORMAT) != fmt.KEY_FORMAT:
            raise CorruptArchive(
                "the configured repository does not key objects by SHA-256; "
                "archives can only be imported into one that does"
            )
        try:
            with storing_objects(), transaction.atomic():
                self.import_users()
                self.computers = related.import_computers(self.archive, self.summary)
                self.import_nodes()
                self.import_files()
                self.import_links()
                self.import_groups()
                related.import_authinfos(
                    self.archive, self.summary, self.users, self.computers
                )
                related.import_comments(
                    self.archive, self.summary, self.users, self.nodes
                )
                related.import_logs(self.archive, self.summary, self.nodes)
                self.name_what_is_not_imported()
        except BaseException:
            # Only what no committed node references: another writer may have
            # stored the same content meanwhile.
            unused = set(self.added_keys) - bulk.referenced_object_keys(self.added_keys)
            self.backend.discard_objects(sorted(unused))
            raise
        refresh_statistics(
            {
                "db_dbnode": self.summary.nodes_new,
                "db_dblink": self.summary.links_new,
                "db_dbgroup_dbnodes": self.summary.memberships_new,
                # At least one reference to each new object.
                "db_dbnode_object": self.summary.files_new,
                "db_dbcomment": self.summary.comments_new,
                "db_dblog": self.summary.logs_new,
            }
        )
        return self.summary

    def import_users(self) -> None:
        model = get_user_model()
        for batch in self.archive.rows("SELECT * FROM db_dbuser"):
            for row in batch:
                with archive_row("db_dbuser", row):
                    email = validation.clean_email(row["email"])
                    first_name = validation.clean_text(row["first_name"], "first_name")
                    last_name = validation.clean_text(row["last_name"], "last_name")
                    institution = validation.clean_text(
                        row["institution"], "institution", validation.MAX_EMAIL
                    )
                user = model.objects.filter(email__iexact=email).order_by("pk").first()
                if user is None:
                    # An existing user's fields are never overwritten.
                    user = model.objects.create_user(
                        username=self.free_username(email),
                        email=email,
                        first_name=first_name[:150],
                        last_name=last_name[:150],
                    )
                    if institution:
                        UserProfile.objects.create(user=user, institution=institution)
                    self.summary.users_new += 1
                else:
                    self.summary.users_existing += 1
                self.users[row["id"]] = user.pk

    def name_what_is_not_imported(self) -> None:
        """Name the rows of archive tables this importer does not read."""
        for table in self.archive.table_names():
            if table in IMPORTED_TABLES:
                continue
            count = self.archive.count(table)
            if count:
                self.summary.skipped.append(f"{table}: {count} row(s)")

    @staticmethod
    def free_username(email: str) -> str:
        model = get_user_model()
        base = email[:140] or "aiida-user"
        candidate, suffix = base, 1
        while model.objects.filter(username=candidate).exists():
            suffix += 1
            candidate = f"{base}-{suffix}"
        return candidate

    def import_nodes(self) -> None:
        bar = self.bar("Nodes", self.archive.count("db_dbnode"))
        for batch in self.archive.rows("SELECT * FROM db_dbnode ORDER BY id"):
            rows: dict[str, dict[str, Any]] = {}
            for row, node in checked_rows("db_dbnode", batch, self.clean_node):
                if node["uuid"] in rows:
                    raise CorruptArchive(
                        f"{describe_row('db_dbnode', row)}: the uuid appears twice"
                    )
                rows[node["uuid"]] = node
            new_rows = self.match_existing_nodes(rows)
            self.insert_nodes(new_rows)
            self.summary.nodes_new += len(new_rows)
            bar.update(len(batch))
        bar.close()

    def clean_node(self, row: Any) -> dict[str, Any]:
        """An archive node row checked by the rules the API's writers use
        (:func:`nodes.validation.clean_node`), with its user mapped here.

        :raises InputValidationError: for the first malformed field.
        """
        if not isinstance(row["id"], int):
            raise InputValidationError(f"id {row['id']!r} is not an integer")
        if row["user_id"] not in self.users:
            raise InputValidationError(
                f"refers to user {row['user_id']!r}, which the archive does not hold"
            )
        attributes = parse_json(row["attributes"], "attributes")
        extras = parse_json(row["extras"], "extras")
        # Only objects have keys to drop; anything else is refused below.
        if extras and type(extras) is dict:
            extras = without_private_extras(row["node_type"], extras)
        if (
            type(attributes) is dict
            and PROCESS_CHECKPOINT in attributes
            and str(row["node_type"]).startswith("process.")
        ):
            # A process's checkpoint is its runner's; aiida-core drops it too.
            del attributes[PROCESS_CHECKPOINT]
        tree = parse_json(row["repository_metadata"], "repository_metadata")
        tree_text, keys = validation.clean_repository_tree(tree)
        for key in keys:
            if not fmt.is_object_key(key):
                raise InputValidationError(
                    f"repository_metadata: {key[:80]!r} is not a SHA-256 key"
                )
        columns = validation.clean_node(
            node_type=row["node_type"],
            process_type=row["process_type"],
            label=row["label"],
            description=row["description"],
            attributes=attributes,
            extras=extras,
        )
        return {
            "id": row["id"],
            "uuid": validation.clean_uuid(row["uuid"]),
            "columns": columns,
            "ctime": parse_time(row["ctime"], "ctime"),
            "mtime": parse_time(row["mtime"], "mtime"),
            "user_id": self.users[row["user_id"]],
            "dbcomputer_id": self.computer_pk(row["dbcomputer_id"]),
            "repository_metadata_text": tree_text,
            "keys": keys,
            # Compared with an existing node of the same uuid.
            "node_type": columns.node_type,
            "process_type": columns.process_type,
            "attributes": attributes,
            "repository_metadata": tree,
        }

    def computer_pk(self, archive_id: Any) -> int | None:
        """Our pk of the archive's computer ``archive_id`` (None for none).

        :raises InputValidationError: if the archive does not hold it.
        """
        if archive_id is None:
            return None
        if archive_id not in self.computers:
            raise InputValidationError(
                f"refers to computer {archive_id!r}, which the archive does not hold"
            )
        return self.computers[archive_id]

    def insert_nodes(self, rows: list[dict[str, Any]]) -> None:
        """Insert checked rows, mapping their archive ids to our pks;
        building model instances would cost more than the insert itself."""
        if not rows:
            return
        try:
            with transaction.atomic():
                pks = bulk.insert_nodes(
                    [self.node_values(row) for row in rows], NODE_COLUMNS
                )
        except IntegrityError as exc:
            raise CorruptArchive(f"the archive's nodes clash: {exc}") from None
        for row, pk in zip(rows, pks, strict=True):
            self.nodes[row["id"]] = pk
            self.node_types[pk] = row["node_type"]
            self.required_keys.update(row["keys"])

    def node_values(self, row: dict[str, Any]) -> tuple:
        """The row in ``NODE_COLUMNS`` order."""
        columns, time = row["columns"], self.time
        return (
            row["uuid"],
            columns.node_type,
            columns.process_type,
            columns.label,
            columns.description,
            time(row["ctime"]),
            time(row["mtime"]),
            row["user_id"],
            columns.attributes,
            columns.extras,
            row["repository_metadata_text"],
            row["dbcomputer_id"],
        )

    def match_existing_nodes(self, rows: dict[str, dict[str, Any]]) -> list[Any]:
        """Map the rows whose UUID exists; answer the others in order."""
        # Most imports bring new nodes only: a plain lookup of the uuids first
        # spares them the building of a Django filter of thousands of UUIDs.
        stored = bulk.stored_uuids(bulk.NODE_TABLE, list(rows))
        found = [
            existing
            for chunk in bulk.chunked(sorted(stored))
            for existing in DbNode.objects.filter(uuid__in=chunk).values(
                "pk", "uuid", *IMMUTABLE_FIELDS
            )
        ]
        for existing in found:
            incoming = rows.pop(existing["uuid"].hex)
            for name in IMMUTABLE_FIELDS:
                if existing[name] != incoming[name]:
                    raise UniquenessError(
                        f"node {existing['uuid']} exists here with a different "
                        f"{name}; the archive conflicts with this database"
                    )
            self.nodes[incoming["id"]] = existing["pk"]
            self.node_types[existing["pk"]] = existing["node_type"]
            self.existing_nodes.add(incoming["id"])
            # An existing node's files must be present too; repair them if not.
            self.required_keys.update(iter_keys(existing["repository_metadata"]))
            self.summary.nodes_existing += 1
        return list(rows.values())

    def import_files(self) -> None:
        keys = sorted(self.required_keys)
        present = set()
        for chunk in bulk.chunked(keys, 10_000):
            flags = self.backend.has_objects(chunk)
            present.update(key for key, flag in zip(chunk, flags, strict=True) if flag)
        missing = [key for key in keys if key not in present]
        in_zip = self.archive.object_keys()
        absent = [key for key in missing if key not in in_zip]
        if absent:
            raise CorruptArchive(
                f"{len(absent)} file object(s) referenced by nodes are missing "
                f"from the archive, e.g. {absent[0]}"
            )
        bar = self.bar("Files", len(missing))
        for batch in self.archive.object_batches(missing, alone_above=SMALL_OBJECT):
            if len(batch) == 1 and self.archive.object_size(batch[0]) > SMALL_OBJECT:
                # Large objects are streamed, never held in memory.
                with self.archive.open_object(batch[0]) as handle:
                    stored = [self.backend.put_object_from_filelike(handle)]
            else:
                stored = self.backend.put_objects_from_bytes(
                    [self.archive.read_object(key) for key in batch]
                )
            self.added_keys.extend(stored)
            for expected, actual in zip(batch, stored, strict=True):
                if expected != actual:
                    raise CorruptArchive(
                        f"file object {expected} is corrupt: "
                        f"its content hashes to {actual}"
                    )
            bar.update(len(batch))
        bar.close()
        self.summary.files_new = len(missing)
        self.summary.files_existing = len(present)

    def import_links(self) -> None:
        """Links checked by the API's link rules (:mod:`nodes.links`), against
        each other and the links stored here, then inserted."""
        pending: list[tuple[Any, Link]] = []  # (archive row id, link)
        touching_existing = []
        for batch in self.archive.rows("SELECT * FROM db_dblink ORDER BY id"):
            for row, link in checked_rows(
                "db_dblink", self.kept_links(batch), self.link_of
            ):
                if (
                    row["input_id"] in self.existing_nodes
                    and row["output_id"] in self.existing_nodes
                ):
                    touching_existing.append((row["id"], link))
                else:
                    pending.append((row["id"], link))
        pending.extend(self.drop_existing_links(touching_existing))
        links = self.check_links(pending)
        existing_pks = {self.nodes[node] for node in self.existing_nodes}
        try:
            with transaction.atomic():
                bulk.insert_rows(bulk.LINK_TABLE, bulk.LINK_COLUMNS, links)
            links_check_acyclic(new=links, stored_targets=existing_pks)
        except IntegrityError as exc:
            raise CorruptArchive(
                f"the archive's links break a link rule: {exc}"
            ) from None
        except StoringNotAllowed as exc:
            raise CorruptArchive(f"db_dblink: {exc}") from None
        self.summary.links_new = len(links)

    def kept_links(self, rows: list[Any]) -> Iterator[Any]:
        """The link rows to import: with ``skip_dangling_links``, those whose
        nodes the archive holds (each other one named in the summary)."""
        if not self.skip_dangling_links:
            yield from rows
            return
        for row in rows:
            if row["input_id"] in self.nodes and row["output_id"] in self.nodes:
                yield row
                continue
            self.summary.skipped.append(
                f"skipped link {row['label']!r} ({row['type']}) from node "
                f"{row['input_id']} to node {row['output_id']}: a node "
                "the archive lacks"
            )

    def link_of(self, row: Any) -> Link:
        return Link(
            self.node_pk(row["input_id"]),
            self.node_pk(row["output_id"]),
            row["label"],
            row["type"],
        )

    def node_pk(self, archive_id: Any) -> int:
        try:
            return self.nodes[archive_id]
        except (KeyError, TypeError):
            raise InputValidationError(
                f"refers to node {archive_id!r}, which the archive does not hold"
            ) from None

    def check_links(self, pending: list[tuple[Any, Link]]) -> list[Link]:
        """The links normalized by :func:`nodes.links.check_links`.

        :raises CorruptArchive: naming the first row that breaks a rule.
        """
        current = None

        def feed() -> Iterator[Link]:
            nonlocal current
            for row_id, link in pending:
                current = row_id
                yield link

        existing_pks = {self.nodes[node] for node in self.existing_nodes}
        near_existing = [
            link
            for _, link in pending
            if link.source in existing_pks or link.target in existing_pks
        ]
        # No ``sealed``: an archive carries sealed processes with their
        # links, and aiida-core's import writes those links past the seal.
        try:
            return link_rules.check_links(
                feed(), self.node_types, links_touching(near_existing)
            )
        except (InputValidationError, StoringNotAllowed) as exc:
            raise CorruptArchive(f"db_dblink row {current!r}: {exc}") from None

    def drop_existing_links(
        self, links: list[tuple[Any, Link]]
    ) -> list[tuple[Any, Link]]:
        """The links between pre-existing nodes that are not stored yet."""
        stored = set()
        outputs = sorted({link.target for _, link in links})
        for chunk in bulk.chunked(outputs):
            stored.update(
                DbLink.objects.filter(output_id__in=chunk).values_list(
                    "input_id", "output_id", "label", "type"
                )
            )
        fresh = [(row, link) for row, link in links if link not in stored]
        self.summary.links_existing = len(links) - len(fresh)
        return fresh

    def import_groups(self) -> None:
        groups: dict[int, DbGroup] = {}
        for batch in self.archive.rows("SELECT * FROM db_dbgroup ORDER BY id"):
            for row in batch:
                with archive_row("db_dbgroup", row):
                    groups[row["id"]] = self.group_from_row(row)
        membership = DbGroup.dbnodes.through
        pairs = set()
        for batch in self.archive.rows("SELECT * FROM db_dbgroup_dbnodes"):
            for row in batch:
                with archive_row("db_dbgroup_dbnodes", row):
                    if row["dbgroup_id"] not in groups:
                        raise InputValidationError(
                            f"refers to group {row['dbgroup_id']!r}, "
                            "which the archive does not hold"
                        )
                    pairs.add(
                        (groups[row["dbgroup_id"]].pk, self.node_pk(row["dbnode_id"]))
                    )
        group_pks = sorted({group_pk for group_pk, _ in pairs})
        for chunk in bulk.chunked(group_pks):
            pairs -= set(
                membership.objects.filter(dbgroup_id__in=chunk).values_list(
                    "dbgroup_id", "dbnode_id"
                )
            )
        membership.objects.bulk_create(
            [membership(dbgroup_id=g, dbnode_id=n) for g, n in sorted(pairs)],
            batch_size=2000,
        )
        self.summary.memberships_new = len(pairs)

    def group_from_row(self, row: Any) -> DbGroup:
        """The group of an archive row, matched by uuid or created after the
        checks the API's group writers apply.

        :raises InputValidationError: for a malformed field.
        """
        uuid = validation.clean_uuid(row["uuid"])
        group = DbGroup.objects.filter(uuid=uuid).first()
        if group is not None:
            self.summary.groups_existing += 1
            return group
        label = validation.clean_group_label(row["label"])
        type_string = validation.clean_text(
            row["type_string"], "type_string", validation.MAX_TYPE
        )
        fields = {
            "time": parse_time(row["time"], "time"),
            "description": validation.clean_text(row["description"], "description"),
            "extras": validation.clean_dict(
                parse_json(row["extras"], "extras"), "extras"
            ),
        }
        if row["user_id"] not in self.users:
            raise InputValidationError(
                f"refers to user {row['user_id']!r}, which the archive does not hold"
            )
        suffix = 0
        while DbGroup.objects.filter(label=label, type_string=type_string).exists():
            suffix += 1
            # Shortened so the renamed label still fits the column.
            ending = f"_{suffix}"
            label = row["label"][: validation.MAX_LABEL - len(ending)] + ending
        if suffix:
            self.summary.renamed_groups.append(f"{row['label']} -> {label}")
        self.summary.groups_new += 1
        return DbGroup.objects.create(
            uuid=uuid,
            label=label,
            type_string=type_string,
            user_id=self.users[row["user_id"]],
            **fields,
        )


def archive_import(
    path: str, *, progress: bool = False, skip_dangling_links: bool = False
) -> ImportSummary:
    """Import the archive at ``path``, of any version AiiDA wrote; answer what
    was new, what existed and what was left out (``skipped``).

    :raises CorruptArchive: the archive is unreadable, of an unknown version,
        misses or corrupts a file, or has a link to a node it lacks (unless
        ``skip_dangling_links``); nothing is changed.
    :raises UniquenessError: a node UUID exists here with other content;
        nothing is changed.
    """
    with (
        long_lived_heap(),
        open_archive(
            path, skip_dangling_links=skip_dangling_links, progress=progress
        ) as archive,
    ):
        return ArchiveImporter(
            archive, progress=progress, skip_dangling_links=skip_dangling_links
        ).run()
