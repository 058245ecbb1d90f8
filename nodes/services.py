"""Storing, linking, changing and deleting nodes and groups.

Every write that touches more than one row, the file repository or a
transaction lives here; views and commands call these functions and nothing
else. Work on many rows is set-based: lookups and deletes go in chunks of
primary keys small enough for SQLite's bound-parameter limit.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import math
import os
import uuid as uuid_module
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from aiidasite.exceptions import (
    InputValidationError,
    ModificationNotAllowed,
    MultipleObjectsError,
    NotExistent,
    StoringNotAllowed,
    UniquenessError,
)
from nodes import bulk, types
from nodes import links as link_rules
from nodes.links import Link
from nodes.models import DbGroup, DbLink, DbNode, LinkType
from repository import Repository, get_backend, iter_keys, validate_path
from repository.backends import AbstractRepositoryBackend
from repository.exceptions import (
    InvalidPathError,
    NotADirectoryPathError,
    ObjectNotFoundError,
)

FileContent = bytes | IO[bytes]


@dataclass(eq=False)
class NodeSpec:
    """A node to store: what :func:`node_store` takes, as one object.

    ``files`` maps a relative path in the node's file tree to its content.
    """

    node_type: str
    attributes: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    description: str = ""
    process_type: str | None = None
    ctime: datetime.datetime | None = None
    files: Mapping[str, FileContent] = field(default_factory=dict)


# A link end in a bulk store: the pk of a stored node or a spec of the batch.
LinkEnd = int | NodeSpec


@dataclass(frozen=True)
class IncomingLink:
    """A link into a node being stored, from an already stored ``source``."""

    source: int
    label: str
    type: str


# --- lookups ---------------------------------------------------------------


def uuid_prefix(text: str) -> str | None:
    """``text`` as the start of a canonical (dashed, lowercase) UUID, or None
    if it cannot be one.

    Databases compare UUIDs as text differently (PostgreSQL with dashes,
    SQLite without); the dashed form works on both.
    """
    digits = text.strip().replace("-", "").lower()
    if not digits or len(digits) > 32:
        return None
    if any(c not in "0123456789abcdef" for c in digits):
        return None
    groups, start = [], 0
    for size in (8, 4, 4, 4, 12):
        if start >= len(digits):
            break
        groups.append(digits[start : start + size])
        start += size
    return "-".join(groups)


def node_get(*, identifier: int | str) -> DbNode:
    """The node with this pk, UUID or unique UUID prefix.

    Digits are a pk first; if no node has that pk they are tried as the start
    of a UUID (UUIDs may begin with digits only).

    :raises NotExistent: if no node matches.
    :raises MultipleObjectsError: if a UUID prefix matches several nodes.
    """
    text = str(identifier).strip()
    query = DbNode.objects.select_related("user")
    if text.isdigit():
        node = query.filter(pk=int(text)).first()
        if node is not None:
            return node
        if len(text) >= 4:
            found = _by_uuid_prefix(query, uuid_prefix(text) or "", text)
            if found is not None:
                return found
        raise NotExistent(f"no node with pk {text}")
    prefix = uuid_prefix(text)
    found = _by_uuid_prefix(query, prefix, text) if prefix else None
    if found is None:
        raise NotExistent(f"no node with pk or uuid {text!r}")
    return found


def _by_uuid_prefix(query: QuerySet, prefix: str, text: str) -> DbNode | None:
    if not prefix:
        return None
    if len(prefix) == 36:
        return query.filter(uuid=uuid_module.UUID(prefix)).first()
    matches = list(query.filter(uuid__startswith=prefix)[:2])
    if len(matches) > 1:
        raise MultipleObjectsError(f"uuid prefix {text!r} matches several nodes")
    return matches[0] if matches else None


def group_get(*, identifier: int | str) -> DbGroup:
    """The group with this pk, UUID or label (of type ``core``).

    :raises NotExistent: if no group matches.
    """
    text = str(identifier).strip()
    query = DbGroup.objects.select_related("user")
    group = None
    if text.isdigit():
        group = query.filter(pk=int(text)).first()
    if group is None:
        try:
            group = query.filter(uuid=uuid_module.UUID(text)).first()
        except ValueError:
            group = query.filter(label=text, type_string="core").first()
    if group is None:
        raise NotExistent(f"no group {text!r}")
    return group


def node_links(*, node: DbNode) -> tuple[list[DbLink], list[DbLink]]:
    """The node's incoming and outgoing links, oldest first."""
    incoming = list(DbLink.objects.filter(output=node).order_by("id"))
    outgoing = list(DbLink.objects.filter(input=node).order_by("id"))
    return incoming, outgoing


# --- validation ------------------------------------------------------------


def clean_json(value: Any, where: str) -> Any:
    """Return ``value`` if it is JSON that both databases store faithfully.

    :raises InputValidationError: for non-string keys, NaN or infinity, and
        anything that is not None, bool, int, float, str, list or dict.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputValidationError(f"{where}: {value} cannot be stored as JSON")
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputValidationError(f"{where}: key {key!r} is not a string")
            clean_json(item, f"{where}.{key}")
        return value
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            clean_json(item, f"{where}[{index}]")
        return value
    raise InputValidationError(
        f"{where}: a {type(value).__name__} cannot be stored as JSON"
    )


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


_CONTAINERS = (dict, list, tuple)


def dump_json(value: Any, where: str) -> str:
    """``value``, a JSON object, as the text both databases store.

    ``json.dumps`` (in C) refuses what JSON cannot hold; a walk over the
    containers only catches what it would silently change (non-string keys).
    The slow walk of :func:`clean_json` only runs to explain a failure.

    :raises InputValidationError: if ``value`` is not a dict of clean JSON or
        holds NUL characters (PostgreSQL refuses them).
    """
    if not value:
        if value is None or value == {}:
            return "{}"
        raise InputValidationError(f"{where} must be a JSON object")
    if type(value) is not dict:
        raise InputValidationError(f"{where} must be a JSON object")
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        clean_json(value, where)
        raise InputValidationError(f"{where} cannot be stored as JSON") from None
    if not all(type(key) is str for key in value):
        clean_json(value, where)
    # Only nested objects can hide other keys; without a second "{" in the
    # text there are none (a "{" inside a string only costs the walk).
    if text.count("{") > 1:
        _check_nested_keys(value, where)
    if "\\u0000" in text and _has_nul(value):
        raise InputValidationError(f"{where}: NUL characters cannot be stored")
    return text


def _check_nested_keys(value: dict[str, Any], where: str) -> None:
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            if not all(type(key) is str for key in item):
                clean_json(value, where)
            stack.extend(c for c in item.values() if type(c) in _CONTAINERS)
        else:
            stack.extend(c for c in item if type(c) in _CONTAINERS)


def _new_uuids(count: int) -> list[str]:
    """``count`` random (version 4) UUIDs as 32 hex digits."""
    raw = bytearray(os.urandom(16 * count))
    found = []
    for start in range(0, 16 * count, 16):
        raw[start + 6] = (raw[start + 6] & 0x0F) | 0x40
        raw[start + 8] = (raw[start + 8] & 0x3F) | 0x80
        found.append(raw[start : start + 16].hex())
    return found


def _clean_dict(value: Any, where: str) -> dict[str, Any]:
    dump_json(value, where)
    return value or {}


def _clean_text(value: Any, where: str, max_length: int | None = None) -> str:
    if not isinstance(value, str):
        raise InputValidationError(f"{where} must be a string")
    if max_length is not None and len(value) > max_length:
        raise InputValidationError(f"{where} is longer than {max_length} characters")
    if "\x00" in value:
        raise InputValidationError(f"{where}: NUL characters cannot be stored")
    return value


def _node_row(spec: NodeSpec, new_uuid: str, user_id: int, stamp: Any) -> list[Any]:
    """The column values of ``spec`` in ``bulk.NODE_COLUMNS`` order, with the
    file tree still to fill in (last column)."""
    node_type = types.validate_node_type(spec.node_type)
    process_type = spec.process_type
    if process_type is not None:
        _clean_text(process_type, "process_type", 255)
        if not types.is_process(node_type):
            raise InputValidationError("only process nodes have a process_type")
    if spec.ctime is not None:
        if not isinstance(spec.ctime, datetime.datetime):
            raise InputValidationError("ctime must be a datetime")
        stamp = connection.ops.adapt_datetimefield_value(spec.ctime)
    return [
        new_uuid,
        node_type,
        process_type,
        _clean_text(spec.label, "label", 255),
        _clean_text(spec.description, "description"),
        stamp,
        stamp,
        user_id,
        dump_json(spec.attributes, "attributes"),
        dump_json(spec.extras, "extras"),
        "{}",
    ]


# --- files -----------------------------------------------------------------


def _plan_tree(
    files: Mapping[str, FileContent], where: str
) -> tuple[dict[str, Any], list[tuple[dict[str, Any], IO[bytes]]]]:
    """The serialized tree for ``files`` with its keys still to fill in, and
    each leaf with the stream whose key goes there.

    :raises InvalidPathError: for a path such as ``../x``, ``/etc/passwd`` or
        the empty path.
    :raises NotADirectoryPathError: if a file is used as a directory.
    :raises InputValidationError: for content that is neither bytes nor a
        readable binary stream.
    """
    root: dict[str, Any] = {}
    leaves = []
    for path, content in files.items():
        parts = validate_path(path).parts
        if not parts:
            raise InvalidPathError(f"{where}: a file needs a non-empty path")
        entry = root
        for depth, part in enumerate(parts[:-1], start=1):
            entry = entry.setdefault("o", {}).setdefault(part, {})
            if "k" in entry:
                shown = "/".join(parts[:depth])
                raise NotADirectoryPathError(f"{where}: {shown!r} is a file")
        objects = entry.setdefault("o", {})
        if parts[-1] in objects:
            raise InvalidPathError(f"{where}: {path!r} is given twice")
        leaf: dict[str, Any] = {"k": None}
        objects[parts[-1]] = leaf
        if isinstance(content, bytes | bytearray):
            content = io.BytesIO(content)
        if not AbstractRepositoryBackend.is_readable_byte_stream(content):
            raise InputValidationError(
                f"{where}: file {path!r} is not bytes nor a binary stream"
            )
        leaves.append((leaf, content))
    return root, leaves


def _put_files(specs: Sequence[NodeSpec]) -> list[dict[str, Any]]:
    """Write every spec's files to the repository in one batch; each spec's
    serialized tree (empty without files). Every path is checked before any
    byte is written."""
    plans = [_plan_tree(spec.files, f"node {i}") for i, spec in enumerate(specs)]
    leaves = [leaf for _, node_leaves in plans for leaf in node_leaves]
    if leaves:
        handles = [handle for _, handle in leaves]
        keys = get_backend().put_objects_from_filelikes(handles)
        for (leaf, _), key in zip(leaves, keys, strict=True):
            leaf["k"] = key
    return [tree for tree, _ in plans]


def node_repository(*, node: DbNode) -> Repository:
    """The node's file tree (read it only: stored files are immutable)."""
    return Repository.from_serialized(get_backend(), node.repository_metadata or {})


def referenced_keys() -> set[str]:
    """Every object key that any node's file tree references."""
    keys: set[str] = set()
    for metadata in bulk.repository_metadata():
        keys.update(iter_keys(metadata))
    return keys


# --- storing ---------------------------------------------------------------


def node_store(
    *,
    user: Any,
    node_type: str,
    attributes: dict[str, Any] | None = None,
    extras: dict[str, Any] | None = None,
    label: str = "",
    description: str = "",
    process_type: str | None = None,
    ctime: datetime.datetime | None = None,
    files: Mapping[str, FileContent] | None = None,
    links: Sequence[IncomingLink] = (),
) -> DbNode:
    """Store one node with its attributes, files and incoming links.

    The files go to the repository first, then the row and its links are
    written in one transaction: a failure leaves no row (orphaned objects are
    removed by ``repository maintain``).

    :raises InputValidationError: for a malformed type, attribute or label.
    :raises NotExistent: if a link source does not exist.
    :raises StoringNotAllowed: if a link breaks AiiDA's link rules.
    """
    spec = NodeSpec(
        node_type=node_type,
        attributes=attributes or {},
        extras=extras or {},
        label=label,
        description=description,
        process_type=process_type,
        ctime=ctime,
        files=files or {},
    )
    new_links = [(link.source, spec, link.label, link.type) for link in links]
    pk = nodes_store_bulk(user=user, nodes=[spec], links=new_links)[0]
    return DbNode.objects.select_related("user").get(pk=pk)


def nodes_store_bulk(
    *,
    user: Any,
    nodes: Sequence[NodeSpec],
    links: Sequence[tuple[LinkEnd, LinkEnd, str, str]] = (),
) -> list[int]:
    """Store many nodes and the links among them and to stored nodes; the
    new pks, in the order of ``nodes``.

    Each link is ``(source, target, label, type)`` where an end is a stored
    node's pk or one of ``nodes``. Everything is validated before anything is
    written; the files go to the repository in one batch, then the rows in
    multi-row INSERTs in one transaction.

    :raises InputValidationError: for a malformed node, file or link.
    :raises NotExistent: if a link names a stored node that does not exist.
    :raises StoringNotAllowed: if a link breaks AiiDA's link rules.
    """
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    # Both SQLite's char(32) and PostgreSQL's uuid take 32 hex digits.
    uuids = _new_uuids(len(nodes))
    user_id = user.pk
    rows = [
        _node_row(spec, new_uuid, user_id, stamp)
        for spec, new_uuid in zip(nodes, uuids, strict=True)
    ]
    # Batch members get negative stand-in keys until they have real ones.
    stand_in = {id(spec): -(index + 1) for index, spec in enumerate(nodes)}
    types_by_key = {-(i + 1): row[1] for i, row in enumerate(rows)}
    pending = [
        Link(_end_key(s, stand_in), _end_key(t, stand_in), label, kind)
        for s, t, label, kind in links
    ]
    stored = {end for link in pending for end in link[:2] if end > 0}
    types_by_key.update(_existing_types(stored))
    checked = link_rules.check_links(pending, types_by_key, _links_touching(pending))
    for row, tree in zip(rows, _put_files(nodes), strict=True):
        if tree:
            row[-1] = json.dumps(tree)
    with transaction.atomic():
        returned = bulk.insert_rows(
            bulk.NODE_TABLE, bulk.NODE_COLUMNS, rows, returning=("id", "uuid")
        )
        pk_of_uuid = {_uuid_text(value): pk for pk, value in returned}
        pks = [pk_of_uuid[_uuid_text(row[0])] for row in rows]
        _insert_links(
            [
                Link(
                    pks[-s - 1] if s < 0 else s,
                    pks[-t - 1] if t < 0 else t,
                    label,
                    kind,
                )
                for s, t, label, kind in checked
            ]
        )
    return pks


def _uuid_text(value: Any) -> str:
    return str(value).replace("-", "")


def _end_key(end: LinkEnd, stand_in: Mapping[int, int]) -> int:
    if isinstance(end, NodeSpec):
        try:
            return stand_in[id(end)]
        except KeyError:
            raise InputValidationError(
                "a link names a node that is not part of this batch"
            ) from None
    if isinstance(end, DbNode):
        end = end.pk
    if isinstance(end, bool) or not isinstance(end, int) or end <= 0:
        raise InputValidationError(f"invalid link end {end!r}: expected a node pk")
    return end


def _existing_types(pks: set[int]) -> dict[int, str]:
    found = bulk.node_types(pks)
    missing = sorted(pks - found.keys())
    if missing:
        shown = ", ".join(map(str, missing[:10]))
        raise NotExistent(f"no node with pk {shown}")
    return found


def _links_touching(new: Sequence[Link]) -> list[Link]:
    """Stored links that could clash with ``new``: into its targets, and out
    of its sources where source labels must be unique."""
    targets = {link.target for link in new if link.target > 0}
    sources = {
        link.source
        for link in new
        if link.source > 0 and link.type.lower() in link_rules.UNIQUE_LABEL_AT_SOURCE
    }
    found = bulk.links_by_end("output_id", targets) if targets else []
    if sources:
        kinds = sorted(link_rules.UNIQUE_LABEL_AT_SOURCE)
        found += bulk.links_by_end("input_id", sources, kinds)
    return found


def _insert_links(new: Sequence[Link]) -> None:
    if not new:
        return
    try:
        with transaction.atomic():
            bulk.insert_rows(
                bulk.LINK_TABLE, ("input_id", "output_id", "label", "type"), new
            )
    except IntegrityError as exc:
        # Only a concurrent writer gets here: the rules were checked above and
        # the database's unique indexes repeat them.
        raise StoringNotAllowed(f"link rules violated: {exc}") from None


def link_add(*, source: int, target: int, label: str, link_type: str) -> DbLink:
    """Add one link between two stored nodes, as AiiDA's link rules allow.

    :raises InputValidationError: for a malformed label or link type.
    :raises NotExistent: if either node does not exist.
    :raises StoringNotAllowed: if the link breaks a rule.
    """
    links_add_bulk(links=[Link(source, target, label, link_type)])
    return DbLink.objects.filter(input_id=source, output_id=target, label=label).latest(
        "id"
    )


def links_add_bulk(*, links: Iterable[Link | tuple[int, int, str, str]]) -> int:
    """Add many links between stored nodes; all or none are added. Returns
    how many were added.

    The rules are checked against each other and against the stored links in
    a few set-based queries, not one per link.

    :raises InputValidationError: for a malformed label, type or end.
    :raises NotExistent: if an end does not exist.
    :raises StoringNotAllowed: for the first link that breaks a rule.
    """
    pending = [
        Link(_end_key(s, {}), _end_key(t, {}), label, kind)
        for s, t, label, kind in links
    ]
    stored = {end for link in pending for end in link[:2]}
    with transaction.atomic():
        types_by_key = _existing_types(stored)
        checked = link_rules.check_links(
            pending, types_by_key, _links_touching(pending)
        )
        _insert_links(checked)
    return len(checked)


# --- changing --------------------------------------------------------------

MUTABLE_FIELDS = frozenset({"label", "description", "extras"})


def node_update(*, node: DbNode, changes: Mapping[str, Any]) -> DbNode:
    """Change a stored node's label, description or extras (replaced whole).

    :raises ModificationNotAllowed: for any other field: attributes and files
        of a stored node are immutable.
    :raises InputValidationError: for a malformed value.
    """
    refused = sorted(set(changes) - MUTABLE_FIELDS)
    if refused:
        raise ModificationNotAllowed(
            f"cannot change {', '.join(refused)} of stored node {node.pk}: only "
            "label, description and extras may change"
        )
    if "label" in changes:
        node.label = _clean_text(changes["label"], "label", 255)
    if "description" in changes:
        node.description = _clean_text(changes["description"], "description")
    if "extras" in changes:
        node.extras = _clean_dict(changes["extras"], "extras")
    node.mtime = timezone.now()
    node.save(update_fields=[*changes, "mtime"])
    return node


# --- deleting --------------------------------------------------------------

# Followed from every deleted node, whatever the options.
ALWAYS_FORWARD = (LinkType.INPUT_CALC, LinkType.INPUT_WORK)
ALWAYS_BACKWARD = (
    LinkType.CREATE,
    LinkType.RETURN,
    LinkType.CALL_CALC,
    LinkType.CALL_WORK,
)


def delete_nodes(
    pks: Iterable[int],
    *,
    dry_run: bool = True,
    create_forward: bool = True,
    call_calc_forward: bool = True,
    call_work_forward: bool = True,
) -> set[int]:
    """Delete ``pks`` and every node AiiDA's deletion rules take with them.

    Always followed: processes that used a deleted data node as input, its
    creator and the workflows that returned it, and a deleted process's
    caller. The options switch off following a calculation's outputs
    (``create_forward``) and a workflow's callees (``call_*_forward``).
    Returns the pks deleted, or that would be with ``dry_run``.

    :raises NotExistent: if one of ``pks`` does not exist (nothing deleted).
    """
    start = {int(pk) for pk in pks}
    forward = list(ALWAYS_FORWARD)
    if create_forward:
        forward.append(LinkType.CREATE)
    if call_calc_forward:
        forward.append(LinkType.CALL_CALC)
    if call_work_forward:
        forward.append(LinkType.CALL_WORK)
    with transaction.atomic():
        _existing_types(start)
        found = bulk.closure(start, forward, list(ALWAYS_BACKWARD))
        if not dry_run:
            delete_nodes_and_connections(found)
    return found


def delete_nodes_and_connections(pks: Iterable[int]) -> None:
    """Delete exactly these nodes, their links and group memberships.

    No traversal rules apply: callers that want AiiDA's consistency use
    :func:`delete_nodes`. Repository objects that no remaining node
    references are removed once the transaction commits.
    """
    targets = sorted({int(pk) for pk in pks})
    with transaction.atomic():
        orphans = {
            key
            for metadata in bulk.repository_metadata(targets)
            for key in iter_keys(metadata)
        }
        bulk.delete_rows(targets)
        if orphans:
            orphans -= _still_referenced(orphans)
        if orphans:
            transaction.on_commit(lambda: _delete_objects(orphans))


def _still_referenced(keys: set[str]) -> set[str]:
    """Those of ``keys`` that a node's file tree still references.

    Objects are content-addressed, so two nodes with the same file share one.
    """
    wanted = set(keys)
    found: set[str] = set()
    for metadata in bulk.repository_metadata():
        for key in iter_keys(metadata):
            if key in wanted:
                found.add(key)
                wanted.discard(key)
        if not wanted:
            break
    return found


def _delete_objects(keys: set[str]) -> None:
    backend = get_backend()
    candidates = sorted(keys)
    try:
        backend.delete_objects(candidates)
    except ObjectNotFoundError:
        # Someone (``repository maintain``) was faster for some of them.
        exists = backend.has_objects(candidates)
        present = [key for key, found in zip(candidates, exists, strict=True) if found]
        if present:
            backend.delete_objects(present)


# --- groups ----------------------------------------------------------------


def group_create(
    *,
    user: Any,
    label: str,
    type_string: str = "core",
    description: str = "",
    extras: dict[str, Any] | None = None,
) -> DbGroup:
    """Create an empty group.

    :raises InputValidationError: for an empty or malformed label.
    :raises UniquenessError: if a group of that label and type exists.
    """
    label = _clean_text(label, "label", 255).strip()
    if not label:
        raise InputValidationError("a group needs a label")
    try:
        with transaction.atomic():
            return DbGroup.objects.create(
                user=user,
                label=label,
                type_string=_clean_text(type_string, "type_string", 255),
                description=_clean_text(description, "description"),
                extras=_clean_dict(extras, "extras"),
            )
    except IntegrityError:
        raise UniquenessError(
            f"a group labelled {label!r} of type {type_string!r} exists"
        ) from None


def group_add_nodes(*, group: DbGroup, pks: Iterable[int]) -> int:
    """Add nodes to ``group`` (members already in it are skipped).

    Returns how many nodes were added.

    :raises NotExistent: if a node does not exist (nothing added).
    """
    wanted = {int(pk) for pk in pks}
    through = DbGroup.dbnodes.through
    with transaction.atomic():
        _existing_types(wanted)
        present = set()
        for chunk in bulk.chunked(wanted):
            present.update(
                through.objects.filter(
                    dbgroup_id=group.pk, dbnode_id__in=chunk
                ).values_list("dbnode_id", flat=True)
            )
        new = sorted(wanted - present)
        bulk.insert_rows(
            bulk.MEMBER_TABLE,
            ("dbgroup_id", "dbnode_id"),
            [(group.pk, pk) for pk in new],
        )
    return len(new)


def group_remove_nodes(*, group: DbGroup, pks: Iterable[int]) -> int:
    """Remove nodes from ``group``; returns how many were members."""
    through = DbGroup.dbnodes.through
    removed = 0
    with transaction.atomic():
        for chunk in bulk.chunked({int(pk) for pk in pks}):
            removed += through.objects.filter(
                dbgroup_id=group.pk, dbnode_id__in=chunk
            ).delete()[0]
    return removed


def group_delete(*, group: DbGroup) -> None:
    """Delete a group and its memberships; its nodes stay."""
    with transaction.atomic():
        DbGroup.dbnodes.through.objects.filter(dbgroup_id=group.pk).delete()
        group.delete()


def group_update(*, group: DbGroup, changes: Mapping[str, Any]) -> DbGroup:
    """Change a group's label, type_string, description or extras.

    :raises InputValidationError: for a malformed value.
    :raises UniquenessError: if the new label and type are taken.
    """
    for name in ("label", "type_string", "description"):
        if name in changes:
            value = _clean_text(
                changes[name], name, 255 if name != "description" else None
            )
            if name == "label" and not value.strip():
                raise InputValidationError("a group needs a label")
            setattr(group, name, value)
    if "extras" in changes:
        group.extras = _clean_dict(changes["extras"], "extras")
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError:
        raise UniquenessError(
            f"a group labelled {group.label!r} of type {group.type_string!r} exists"
        ) from None
    return group


# --- reading files ---------------------------------------------------------


def node_file_entries(*, node: DbNode, path: str | None = None) -> list[dict[str, str]]:
    """Every file and directory under ``path`` in the node's tree, top down.

    :raises InvalidPathError: for a path such as ``../x``.
    :raises ObjectNotFoundError: if nothing is at ``path``.
    :raises NotADirectoryPathError: if ``path`` is a file.
    """
    entries = []
    for root, dirnames, filenames in node_repository(node=node).walk(path):
        for name in dirnames:
            entries.append({"path": str(root / name), "type": "directory"})
        for name in filenames:
            entries.append({"path": str(root / name), "type": "file"})
    return entries


@contextlib.contextmanager
def node_file_open(*, node: DbNode, path: str) -> Iterator[IO[bytes]]:
    """A binary stream of the node's file at ``path``.

    :raises InvalidPathError: for a path such as ``../x``.
    :raises ObjectNotFoundError: if no file is at ``path``.
    :raises NotAFileError: if ``path`` is a directory.
    """
    with node_repository(node=node).open(path) as handle:
        yield handle


def node_file_is_directory(*, node: DbNode, path: str) -> bool:
    """Whether ``path`` names a directory of the node's tree.

    :raises InvalidPathError: for a path such as ``../x``.
    :raises ObjectNotFoundError: if nothing is at ``path``.
    """
    return node_repository(node=node).get_object(path).is_dir()
