"""Importing an AiiDA archive: users, nodes, files, links, groups.

The import runs in one database transaction per archive and is idempotent by
UUID: what exists already is matched, never duplicated. A node whose UUID
exists with other content is a conflict and stops the import. Files go from
the zip into the repository (small ones in batches into packs, large ones
streamed) and are checked against their SHA-256 key; if anything fails, the
rows roll back and the objects this import added are removed again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from tqdm import tqdm

from aiidasite.exceptions import CorruptArchive, UniquenessError
from archives import format as fmt
from archives.reader import ArchiveReader
from nodes import bulk
from nodes.models import DbGroup, DbLink, DbNode
from repository import get_backend, iter_keys
from repository.services import storing_objects

# Rows compared to decide whether an existing UUID holds the same node.
IMMUTABLE_FIELDS = ("node_type", "process_type", "attributes", "repository_metadata")
# Objects up to this size are read whole and written to packs in batches;
# larger ones are streamed, so an archive never has to fit in memory.
SMALL_OBJECT = 4 * 1024 * 1024


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
    renamed_groups: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(
            (self.nodes_new, self.links_new, self.groups_new, self.memberships_new)
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ArchiveImporter:
    """One import of one archive; ``run()`` does the work in order."""

    def __init__(self, archive: ArchiveReader, *, progress: bool = False) -> None:
        self.archive = archive
        self.progress = progress
        self.backend = get_backend()
        self.summary = ImportSummary()
        self.users: dict[int, int] = {}
        self.nodes: dict[int, int] = {}  # archive id -> our pk
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
                self.import_nodes()
                self.import_files()
                self.import_links()
                self.import_groups()
        except BaseException:
            # Only what no committed node references: another writer may have
            # stored the same content meanwhile.
            unused = set(self.added_keys) - bulk.referenced_object_keys(self.added_keys)
            self.backend.discard_objects(sorted(unused))
            raise
        return self.summary

    def import_users(self) -> None:
        model = get_user_model()
        for batch in self.archive.rows("SELECT * FROM db_dbuser"):
            for row in batch:
                email = row["email"].strip()
                user = model.objects.filter(email__iexact=email).order_by("pk").first()
                if user is None:
                    user = model.objects.create_user(
                        username=self.free_username(email),
                        email=email,
                        first_name=row["first_name"][:150],
                        last_name=row["last_name"][:150],
                    )
                    self.summary.users_new += 1
                self.users[row["id"]] = user.pk

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
            rows = {row["uuid"].replace("-", ""): row for row in batch}
            new_rows = self.match_existing_nodes(rows)
            self.insert_nodes(new_rows)
            self.summary.nodes_new += len(new_rows)
            bar.update(len(batch))
        bar.close()

    def insert_nodes(self, rows: list[Any]) -> None:
        """Insert archive rows as they are (JSON text, UTC times), mapping
        their archive ids to our pks; building model instances would cost
        more than the insert itself."""
        if not rows:
            return
        pks = bulk.insert_nodes([self.node_values(row) for row in rows])
        for row, pk in zip(rows, pks, strict=True):
            self.nodes[row["id"]] = pk

    def node_values(self, row: Any) -> tuple:
        """The row in ``nodes.bulk.NODE_COLUMNS`` order."""
        try:
            user_id = self.users[row["user_id"]]
        except KeyError:
            raise CorruptArchive(
                f"node {row['uuid']} refers to user {row['user_id']}, "
                "which the archive does not hold"
            ) from None
        try:
            uuid = UUID(row["uuid"]).hex
            repository_metadata = fmt.parse_json(row["repository_metadata"], {})
            # Parsed only to refuse malformed JSON; the text is stored as it is.
            attributes = row["attributes"] or "{}"
            extras = row["extras"] or "{}"
            json.loads(attributes), json.loads(extras)
            ctime, mtime = fmt.parse_time(row["ctime"]), fmt.parse_time(row["mtime"])
        except (ValueError, TypeError) as exc:
            raise CorruptArchive(f"node {row['uuid']} is malformed: {exc}") from None
        self.required_keys.update(iter_keys(repository_metadata))
        return (
            uuid,
            row["node_type"],
            row["process_type"],
            row["label"] or "",
            row["description"] or "",
            connection.ops.adapt_datetimefield_value(ctime),
            connection.ops.adapt_datetimefield_value(mtime),
            user_id,
            attributes,
            extras,
            row["repository_metadata"] or "{}",
        )

    def match_existing_nodes(self, rows: dict[str, Any]) -> list[Any]:
        """Map the rows whose UUID exists; answer the others in order."""
        found = DbNode.objects.filter(uuid__in=list(rows)).values(
            "pk", "uuid", *IMMUTABLE_FIELDS
        )
        for existing in found:
            row = rows.pop(existing["uuid"].hex)
            incoming = self.node_fields(row)
            for name in IMMUTABLE_FIELDS:
                if existing[name] != incoming[name]:
                    raise UniquenessError(
                        f"node {existing['uuid']} exists here with a different "
                        f"{name}; the archive conflicts with this database"
                    )
            self.nodes[row["id"]] = existing["pk"]
            self.existing_nodes.add(row["id"])
            # An existing node's files must be present too; repair them if not.
            self.required_keys.update(iter_keys(existing["repository_metadata"]))
            self.summary.nodes_existing += 1
        return list(rows.values())

    def node_fields(self, row: Any) -> dict[str, Any]:
        return {
            "node_type": row["node_type"],
            "process_type": row["process_type"],
            "attributes": fmt.parse_json(row["attributes"], {}),
            "repository_metadata": fmt.parse_json(row["repository_metadata"], {}),
        }

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
        links: list[tuple[int, int, str, str]] = []
        touching_existing = []
        for batch in self.archive.rows("SELECT * FROM db_dblink ORDER BY id"):
            for row in batch:
                try:
                    link = (
                        self.nodes[row["input_id"]],
                        self.nodes[row["output_id"]],
                        row["label"],
                        row["type"],
                    )
                except KeyError:
                    raise CorruptArchive(
                        f"link {row['id']} refers to a node the archive lacks"
                    ) from None
                if (
                    row["input_id"] in self.existing_nodes
                    and row["output_id"] in self.existing_nodes
                ):
                    touching_existing.append(link)
                else:
                    links.append(link)
        links.extend(self.drop_existing_links(touching_existing))
        try:
            with transaction.atomic():
                bulk.insert_rows(bulk.LINK_TABLE, bulk.LINK_COLUMNS, links)
        except IntegrityError as exc:
            raise CorruptArchive(
                f"the archive's links break a link rule: {exc}"
            ) from None
        self.summary.links_new = len(links)

    def drop_existing_links(
        self, links: list[tuple[int, int, str, str]]
    ) -> list[tuple[int, int, str, str]]:
        """The links between pre-existing nodes that are not stored yet."""
        stored = set()
        outputs = sorted({output for _, output, _, _ in links})
        for chunk in bulk.chunked(outputs):
            stored.update(
                DbLink.objects.filter(output_id__in=chunk).values_list(
                    "input_id", "output_id", "label", "type"
                )
            )
        fresh = [link for link in links if link not in stored]
        self.summary.links_existing = len(links) - len(fresh)
        return fresh

    def import_groups(self) -> None:
        groups: dict[int, DbGroup] = {}
        for batch in self.archive.rows("SELECT * FROM db_dbgroup ORDER BY id"):
            for row in batch:
                groups[row["id"]] = self.group_from_row(row)
        membership = DbGroup.dbnodes.through
        pairs = set()
        for batch in self.archive.rows("SELECT * FROM db_dbgroup_dbnodes"):
            for row in batch:
                try:
                    pairs.add(
                        (groups[row["dbgroup_id"]].pk, self.nodes[row["dbnode_id"]])
                    )
                except KeyError:
                    raise CorruptArchive(
                        f"group membership {row['id']} refers to a missing entity"
                    ) from None
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
        uuid = row["uuid"].replace("-", "")
        group = DbGroup.objects.filter(uuid=uuid).first()
        if group is not None:
            self.summary.groups_existing += 1
            return group
        label = row["label"]
        suffix = 0
        while DbGroup.objects.filter(
            label=label, type_string=row["type_string"]
        ).exists():
            suffix += 1
            label = f"{row['label']}_{suffix}"
        if suffix:
            self.summary.renamed_groups.append(f"{row['label']} -> {label}")
        self.summary.groups_new += 1
        return DbGroup.objects.create(
            uuid=uuid,
            label=label,
            type_string=row["type_string"],
            time=fmt.parse_time(row["time"]),
            description=row["description"] or "",
            user_id=self.users[row["user_id"]],
            extras=fmt.parse_json(row["extras"], {}),
        )


def archive_import(path: str, *, progress: bool = False) -> ImportSummary:
    """Import the archive at ``path``; answer what was new and what existed.

    :raises CorruptArchive: the archive is unreadable, of an unsupported
        version, or misses or corrupts a file; nothing is changed.
    :raises UniquenessError: a node UUID exists here with other content;
        nothing is changed.
    """
    with ArchiveReader(path) as archive:
        return ArchiveImporter(archive, progress=progress).run()
