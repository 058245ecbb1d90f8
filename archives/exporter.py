"""Writing an AiiDA archive that aiida-core 2.x can import.

The exported set grows from the nodes asked for by AiiDA's export rules
(``format.EXPORT_RULES``): the inputs and creators of what is exported come
along, so the provenance of every exported node is complete. The computers
of exported nodes always come along, and so, as ``verdi archive create``
does by default, do their comments and log records; auth infos only when
asked for, as they may hold credentials.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from tqdm import tqdm

from aiidasite import __version__
from aiidasite.exceptions import InputValidationError, NotExistent
from aiidasite.identifiers import MAX_PK
from aiidasite.tempdirs import owned_tempdir
from archives import format as fmt
from comments.models import DbComment
from computers.models import DbAuthInfo, DbComputer
from logs.models import DbLog
from nodes import bulk
from nodes.models import DbGroup, DbLink, DbNode
from repository import get_backend, iter_keys
from users.models import UserProfile

COMPRESSION_LEVEL = 6


@dataclass
class ExportSummary:
    path: str
    nodes: int = 0
    links: int = 0
    groups: int = 0
    users: int = 0
    files: int = 0
    computers: int = 0
    authinfos: int = 0
    comments: int = 0
    logs: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def export_closure(start: Iterable[int]) -> set[int]:
    """``start`` grown by the export rules until nothing more is added."""
    forward = [
        name.removesuffix("_forward")
        for name, on in fmt.EXPORT_RULES.items()
        if on and name.endswith("_forward")
    ]
    backward = [
        name.removesuffix("_backward")
        for name, on in fmt.EXPORT_RULES.items()
        if on and name.endswith("_backward")
    ]
    return bulk.closure(set(start), forward, backward)


def starting_nodes(
    *, node_pks: list[int], group_labels: list[str], everything: bool
) -> tuple[set[int], list[DbGroup]]:
    if everything and (node_pks or group_labels):
        raise InputValidationError(
            "'all' exports every node and group: give it without nodes or groups"
        )
    if everything:
        return set(DbNode.objects.values_list("pk", flat=True)), list(
            DbGroup.objects.all()
        )
    if not node_pks and not group_labels:
        raise InputValidationError("nothing to export: give nodes, groups or 'all'")
    pks = set(node_pks)
    found = set()
    # Beyond a bigint no node can match (and SQLite's driver refuses the number).
    for chunk in bulk.chunked(sorted(pk for pk in pks if 0 < pk < MAX_PK)):
        found.update(DbNode.objects.filter(pk__in=chunk).values_list("pk", flat=True))
    if pks - found:
        raise NotExistent(f"no node with pk {sorted(pks - found)[0]}")
    groups = []
    for label in group_labels:
        group = DbGroup.objects.filter(label=label).order_by("pk").first()
        if group is None:
            raise NotExistent(f"no group with label {label!r}")
        groups.append(group)
        pks.update(group.dbnodes.values_list("pk", flat=True))
    return pks, groups


class ArchiveWriter:
    """Fills a new archive's ``db.sqlite3`` and zip."""

    def __init__(self, workdir: Path, *, progress: bool) -> None:
        self.db_path = workdir / fmt.DATABASE_NAME
        self.db = sqlite3.connect(self.db_path)
        self.db.executescript(fmt.SCHEMA)
        self.progress = progress

    def insert(self, table: str, rows: list[tuple]) -> None:
        if rows:
            marks = ",".join("?" * len(rows[0]))
            self.db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)

    def write_nodes(self, pks: list[int]) -> tuple[set[int], set[str]]:
        users, keys = set(), set()
        self.computers: set[int] = set()
        bar = tqdm(total=len(pks), desc="Nodes", disable=not self.progress)
        for chunk in bulk.chunked(pks):
            rows = []
            for node in DbNode.objects.filter(pk__in=chunk).order_by("pk"):
                users.add(node.user_id)
                if node.dbcomputer_id is not None:
                    self.computers.add(node.dbcomputer_id)
                keys.update(iter_keys(node.repository_metadata))
                rows.append(
                    (
                        node.pk,
                        str(node.uuid),
                        node.node_type,
                        node.process_type,
                        node.label,
                        node.description,
                        fmt.format_time(node.ctime),
                        fmt.format_time(node.mtime),
                        fmt.dump_json(node.attributes),
                        fmt.dump_json(node.extras),
                        fmt.dump_json(node.repository_metadata),
                        node.dbcomputer_id,
                        node.user_id,
                    )
                )
            self.insert("db_dbnode", rows)
            bar.update(len(chunk))
        bar.close()
        return users, keys

    def write_links(self, pks: set[int]) -> int:
        ordered, count = sorted(pks), 0
        for chunk in bulk.chunked(ordered):
            rows = [
                row
                for row in DbLink.objects.filter(output_id__in=chunk)
                .order_by("pk")
                .values_list("pk", "input_id", "output_id", "label", "type")
                if row[1] in pks
            ]
            self.insert("db_dblink", rows)
            count += len(rows)
        return count

    def write_groups(self, groups: list[DbGroup], pks: set[int]) -> set[int]:
        users = set()
        membership = DbGroup.dbnodes.through
        for group in groups:
            users.add(group.user_id)
            self.insert(
                "db_dbgroup",
                [
                    (
                        group.pk,
                        str(group.uuid),
                        group.label,
                        group.type_string,
                        fmt.format_time(group.time),
                        group.description,
                        fmt.dump_json(group.extras),
                        group.user_id,
                    )
                ],
            )
            members = membership.objects.filter(dbgroup_id=group.pk).values_list(
                "pk", "dbnode_id", "dbgroup_id"
            )
            self.insert("db_dbgroup_dbnodes", [m for m in members if m[1] in pks])
        return users

    def write_computers(self) -> int:
        rows = [
            (
                computer.pk,
                str(computer.uuid),
                computer.label,
                computer.hostname,
                computer.description,
                computer.scheduler_type,
                computer.transport_type,
                fmt.dump_json(computer.metadata),
            )
            for computer in DbComputer.objects.filter(
                pk__in=sorted(self.computers)
            ).order_by("pk")
        ]
        self.insert("db_dbcomputer", rows)
        return len(rows)

    def write_authinfos(self) -> tuple[int, set[int]]:
        """The auth infos of the exported computers: their count and users."""
        infos = DbAuthInfo.objects.filter(
            dbcomputer_id__in=sorted(self.computers)
        ).order_by("pk")
        self.insert(
            "db_dbauthinfo",
            [
                (
                    info.pk,
                    info.aiidauser_id,
                    info.dbcomputer_id,
                    fmt.dump_json(info.metadata),
                    fmt.dump_json(info.auth_params),
                    info.enabled,
                )
                for info in infos
            ],
        )
        return len(infos), {info.aiidauser_id for info in infos}

    def write_comments(self, pks: list[int]) -> tuple[int, set[int]]:
        """The comments on the exported nodes: their count and authors."""
        count, users = 0, set()
        for chunk in bulk.chunked(pks):
            comments = DbComment.objects.filter(dbnode_id__in=chunk).order_by("pk")
            rows = [
                (
                    comment.pk,
                    str(comment.uuid),
                    comment.dbnode_id,
                    fmt.format_time(comment.ctime),
                    fmt.format_time(comment.mtime),
                    comment.user_id,
                    comment.content,
                )
                for comment in comments
            ]
            self.insert("db_dbcomment", rows)
            users.update(row[5] for row in rows)
            count += len(rows)
        return count, users

    def write_logs(self, pks: list[int]) -> int:
        count = 0
        for chunk in bulk.chunked(pks):
            rows = [
                (
                    log.pk,
                    str(log.uuid),
                    fmt.format_time(log.time),
                    log.loggername,
                    log.levelname,
                    log.dbnode_id,
                    log.message,
                    fmt.dump_json(log.metadata),
                )
                for log in DbLog.objects.filter(dbnode_id__in=chunk).order_by("pk")
            ]
            self.insert("db_dblog", rows)
            count += len(rows)
        return count

    def write_users(self, pks: set[int], *, hide_emails: bool = False) -> None:
        rows = []
        institutions = dict(
            UserProfile.objects.filter(user_id__in=sorted(pks)).values_list(
                "user_id", "institution"
            )
        )
        users = get_user_model().objects
        for user in (
            u for c in bulk.chunked(sorted(pks)) for u in users.filter(pk__in=c)
        ):
            if hide_emails:
                # AiiDA requires a distinct e-mail per user; this one names
                # nobody (.invalid is reserved, RFC 2606).
                rows.append((user.pk, f"user-{user.pk}@hidden.invalid", "", "", ""))
                continue
            # AiiDA identifies users by e-mail, which it requires.
            email = user.email or f"{user.get_username()}@localhost"
            rows.append(
                (
                    user.pk,
                    email,
                    user.first_name,
                    user.last_name,
                    institutions.get(user.pk, ""),
                )
            )
        self.insert("db_dbuser", rows)

    def write_zip(
        self, target: Path, keys: set[str], parameters: dict[str, Any]
    ) -> None:
        self.db.commit()
        self.db.close()
        backend = get_backend()
        metadata = {
            "export_version": fmt.EXPORT_VERSION,
            # aiida-core writes its "aiida_version" here; this names the writer.
            "aiidasite_version": __version__,
            "key_format": fmt.KEY_FORMAT,
            "compression": COMPRESSION_LEVEL,
            "ctime": dt.datetime.now().isoformat(),
            "creation_parameters": {
                **parameters,
                "graph_traversal_rules": fmt.EXPORT_RULES,
            },
        }
        bar = tqdm(total=len(keys), desc="Files", disable=not self.progress)
        with zipfile.ZipFile(
            target, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESSION_LEVEL
        ) as archive:
            archive.writestr(fmt.METADATA_NAME, json.dumps(metadata))
            archive.write(self.db_path, fmt.DATABASE_NAME)
            for key in sorted(keys):
                self.copy_object(backend, key, archive)
                bar.update(1)
        bar.close()

    @staticmethod
    def copy_object(backend: Any, key: str, archive: zipfile.ZipFile) -> None:
        try:
            source = backend.open(key)
            src = source.__enter__()
        except FileNotFoundError:
            raise NotExistent(
                f"file object {key} is missing from the repository; "
                "run 'manage.py repository verify'"
            ) from None
        try:
            with archive.open(fmt.REPO_PREFIX + key, "w", force_zip64=True) as dst:
                while block := src.read(1024 * 1024):
                    dst.write(block)
        finally:
            source.__exit__(None, None, None)


def check_target(target: Path, *, overwrite: bool, parents: bool) -> None:
    """:raises InputValidationError: if ``target`` cannot be written as asked."""
    if target.is_dir():
        raise InputValidationError(f"{target} is a folder; give a file name")
    if target.exists() and not target.is_file():
        # The archive is moved into place: over a device or a pipe, that
        # would replace it (/dev/null itself) with a file.
        raise InputValidationError(f"{target} is not a regular file; give a file name")
    if target.exists() and not overwrite:
        raise InputValidationError(f"{target} exists; choose --overwrite to replace")
    folder = target.parent
    if not parents and not folder.is_dir():
        raise InputValidationError(
            f"folder {folder} does not exist; choose --parents to create it"
        )


def archive_export(
    path: str,
    *,
    node_pks: list[int] | None = None,
    group_labels: list[str] | None = None,
    everything: bool = False,
    overwrite: bool = False,
    parents: bool = False,
    hide_emails: bool = False,
    include_comments: bool = True,
    include_logs: bool = True,
    include_authinfos: bool = False,
    progress: bool = False,
) -> ExportSummary:
    """Write the chosen nodes and groups, with their provenance, to ``path``.

    ``path`` is the caller's choice, taken as given; its folder must exist
    unless ``parents`` asks to create it. ``hide_emails`` writes users with
    placeholder e-mails and no names. The nodes' computers always come along;
    their comments and log records unless switched off, their computers' auth
    infos only when asked for (``verdi archive create`` has the same defaults).

    :raises NotExistent: a node or group asked for does not exist.
    :raises InputValidationError: nothing was asked for, ``path`` exists and
        ``overwrite`` is off, ``path`` is a folder, or its folder is missing
        and ``parents`` is off.
    """
    target = Path(path)
    check_target(target, overwrite=overwrite, parents=parents)
    start, groups = starting_nodes(
        node_pks=node_pks or [], group_labels=group_labels or [], everything=everything
    )
    pks = export_closure(start)
    summary = ExportSummary(path=str(target), nodes=len(pks), groups=len(groups))
    with owned_tempdir("export") as tmp:
        writer = ArchiveWriter(Path(tmp), progress=progress)
        users, keys = writer.write_nodes(sorted(pks))
        summary.links = writer.write_links(pks)
        users |= writer.write_groups(groups, pks)
        if everything:
            # As aiida-core's "everything": computers no node uses too.
            writer.computers.update(DbComputer.objects.values_list("pk", flat=True))
        summary.computers = writer.write_computers()
        if include_authinfos:
            summary.authinfos, owners = writer.write_authinfos()
            users |= owners
        if include_comments:
            summary.comments, authors = writer.write_comments(sorted(pks))
            users |= authors
        if include_logs:
            summary.logs = writer.write_logs(sorted(pks))
        writer.write_users(users, hide_emails=hide_emails)
        summary.users, summary.files = len(users), len(keys)
        # Written aside and moved in place, so a failed export leaves no half file.
        partial = target.with_name(f".{target.name}.partial")
        try:
            if parents:
                target.parent.mkdir(parents=True, exist_ok=True)
            writer.write_zip(
                partial,
                keys,
                {
                    "include_authinfos": include_authinfos,
                    "include_comments": include_comments,
                    "include_logs": include_logs,
                },
            )
            os.replace(partial, target)
        except OSError as exc:
            raise InputValidationError(
                f"cannot write {target}: {exc.strerror or exc}"
            ) from None
        finally:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
    return summary
