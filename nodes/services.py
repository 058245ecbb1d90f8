"""Storing, linking, changing and deleting nodes and groups.

Every write that touches more than one row, the file repository or a
transaction goes through here; views and commands call these functions and
nothing else. Deletion lives in :mod:`nodes.deletion` and files in
:mod:`nodes.files`; both are re-exported here. Work on many rows is
set-based (:mod:`nodes.bulk`).
"""

from __future__ import annotations

import datetime
import json
import uuid as uuid_module
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from aiidasite.exceptions import (
    InputValidationError,
    ModificationNotAllowed,
    MultipleObjectsError,
    NotExistent,
    StoringNotAllowed,
    UniquenessError,
)
from aiidasite.identifiers import MAX_PK, pk_from_text
from aiidasite.prepared import PreparedLookup
from nodes import bulk, files
from nodes import links as link_rules
from nodes.deletion import (
    delete_nodes,
    delete_nodes_and_connections,
    deletion_dependents,
)
from nodes.files import (
    FileContent,
    node_file_entries,
    node_file_is_directory,
    node_file_open,
    node_file_preview,
    node_file_tree,
    node_repository,
    referenced_keys,
)
from nodes.links import Link
from nodes.models import DbGroup, DbLink, DbNode
from nodes.validation import (
    clean_dict,
    clean_group_label,
    clean_node,
    clean_text,
    clean_time,
)
from repository.services import storing_objects

__all__ = [
    "IncomingLink",
    "NodeSpec",
    "delete_nodes",
    "delete_nodes_and_connections",
    "deletion_dependents",
    "group_add_nodes",
    "group_create",
    "group_delete",
    "group_get",
    "group_remove_nodes",
    "group_update",
    "link_add",
    "links_add_bulk",
    "links_check_acyclic",
    "links_touching",
    "node_file_entries",
    "node_file_is_directory",
    "node_file_open",
    "node_file_preview",
    "node_file_tree",
    "node_get",
    "node_links",
    "node_repository",
    "node_store",
    "node_update",
    "nodes_store_bulk",
    "referenced_keys",
    "uuid_prefix",
]


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


# What a link shows of the nodes at its ends.
LINK_END_FIELDS = ("id", "uuid", "node_type", "label")
# What node pages show of a node's owner.
NODE_USER_FIELDS = ("user__username", "user__email")

# --- lookups ---------------------------------------------------------------


_UUID_DASHES = frozenset({8, 13, 18, 23})


def uuid_prefix(text: str) -> str | None:
    """``text`` as the start of a canonical (dashed, lowercase) UUID, or None
    if it cannot be one.

    Databases compare UUIDs as text differently (PostgreSQL with dashes,
    SQLite without); the dashed form works on both.
    """
    text = text.strip()
    # Dashes stand only where a dashed UUID has them: "-1" starts none.
    if any(
        char == "-" and index not in _UUID_DASHES for index, char in enumerate(text)
    ):
        return None
    digits = text.replace("-", "").lower()
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


# What every detail page pays per node: compiled once, not per request. Of
# the user, what pages show of it (the rest loads if asked for).
_NODE_BY_PK = PreparedLookup(
    lambda pk: (
        DbNode.objects.select_related("user")
        .only(*(f.name for f in DbNode._meta.concrete_fields), *NODE_USER_FIELDS)
        .filter(pk=pk)
    )
)


def node_get(*, identifier: int | str) -> DbNode:
    """The node with this pk, UUID or unique UUID prefix.

    ASCII digits are a pk first; if no node has that pk they are tried as the
    start of a UUID (UUIDs may begin with digits only).

    :raises NotExistent: if no node matches.
    :raises MultipleObjectsError: if a UUID prefix matches several nodes.
    """
    text = str(identifier).strip()
    if text.isascii() and text.isdigit():
        pk = pk_from_text(text)
        node = _NODE_BY_PK.get(pk) if pk is not None else None
        if node is not None:
            return node
        if len(text) >= 4:
            found = _by_uuid_prefix(uuid_prefix(text) or "", text)
            if found is not None:
                return found
        raise NotExistent(f"no node with pk {text}")
    prefix = uuid_prefix(text)
    found = _by_uuid_prefix(prefix, text) if prefix else None
    if found is None:
        raise NotExistent(f"no node with pk or uuid {text!r}")
    return found


def _by_uuid_prefix(prefix: str, text: str) -> DbNode | None:
    if not prefix:
        return None
    query = DbNode.objects.select_related("user")
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
    pk = pk_from_text(text)
    if pk is not None:
        group = query.filter(pk=pk).first()
    if group is None:
        try:
            group = query.filter(uuid=uuid_module.UUID(text)).first()
        except ValueError:
            # No label holds a NUL, and PostgreSQL refuses to compare one.
            if "\x00" not in text:
                group = query.filter(label=text, type_string="core").first()
    if group is None:
        raise NotExistent(f"no group {text!r}")
    return group


def node_links(*, node: DbNode) -> tuple[list[DbLink], list[DbLink]]:
    """The node's incoming and outgoing links, oldest first."""
    links = DbLink.objects.select_related("input", "output").only(
        "id",
        "label",
        "type",
        *(f"{end}__{f}" for end in ("input", "output") for f in LINK_END_FIELDS),
    )
    incoming = list(links.filter(output=node).order_by("id"))
    outgoing = list(links.filter(input=node).order_by("id"))
    return incoming, outgoing


# --- storing ---------------------------------------------------------------


def _node_row(spec: NodeSpec, new_uuid: str, user_id: int, stamp: Any) -> list[Any]:
    """The column values of ``spec`` in ``bulk.NODE_COLUMNS`` order, with the
    file tree still to fill in (last column)."""
    columns = clean_node(
        node_type=spec.node_type,
        process_type=spec.process_type,
        label=spec.label,
        description=spec.description,
        attributes=spec.attributes,
        extras=spec.extras,
    )
    if spec.ctime is not None:
        ctime = clean_time(spec.ctime, "ctime")
        stamp = connection.ops.adapt_datetimefield_value(ctime)
    return [
        new_uuid,
        columns.node_type,
        columns.process_type,
        columns.label,
        columns.description,
        stamp,
        stamp,
        user_id,
        columns.attributes,
        columns.extras,
        "{}",
    ]


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
    :raises ModificationNotAllowed: if a link starts or ends at a stored,
        sealed process node.
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
    :raises ModificationNotAllowed: if a link starts or ends at a stored,
        sealed process node.
    """
    if getattr(user, "pk", None) is None:
        raise InputValidationError("nodes need a stored user")
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    # Both SQLite's char(32) and PostgreSQL's uuid take 32 hex digits.
    uuids = bulk.new_uuids(len(nodes))
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
    types_by_key.update(bulk.existing_node_types(stored))
    # Only nodes stored before are held to their seal: the batch's own nodes
    # are written with their links at once, as aiida-core links a process
    # before it seals it.
    checked = link_rules.check_links(
        pending,
        types_by_key,
        links_touching(pending),
        sealed=bulk.sealed_processes(stored),
    )
    # Held until the rows commit, so maintenance never sees these objects
    # unreferenced in between.
    with storing_objects():
        for row, tree in zip(
            rows, files.put_files([spec.files for spec in nodes]), strict=True
        ):
            if tree:
                row[-1] = json.dumps(tree)
        with transaction.atomic():
            pks = bulk.insert_nodes(rows)
            new_links = [
                Link(
                    pks[-s - 1] if s < 0 else s,
                    pks[-t - 1] if t < 0 else t,
                    label,
                    kind,
                )
                for s, t, label, kind in checked
            ]
            _insert_links(new_links)
            stored_targets = {link.target for link in checked if link.target > 0}
            links_check_acyclic(new=new_links, stored_targets=stored_targets)
    return pks


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
    if isinstance(end, bool) or not isinstance(end, int) or not 0 < end < MAX_PK:
        raise InputValidationError(f"invalid link end {end!r}: expected a node pk")
    return end


def links_touching(new: Sequence[Link]) -> list[Link]:
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
            bulk.insert_rows(bulk.LINK_TABLE, bulk.LINK_COLUMNS, new)
    except IntegrityError as exc:
        # Only a concurrent writer gets here: the rules were checked above and
        # the database's unique indexes repeat them.
        raise StoringNotAllowed(f"link rules violated: {exc}") from None


def link_add(*, source: int, target: int, label: str, link_type: str) -> DbLink:
    """Add one link between two stored nodes, as AiiDA's link rules allow.

    :raises InputValidationError: for a malformed label or link type.
    :raises NotExistent: if either node does not exist.
    :raises StoringNotAllowed: if the link breaks a rule.
    :raises ModificationNotAllowed: if either node is a sealed process.
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
    :raises ModificationNotAllowed: for a link from or to a sealed process.
    """
    pending = [
        Link(_end_key(s, {}), _end_key(t, {}), label, kind)
        for s, t, label, kind in links
    ]
    stored = {end for link in pending for end in link[:2]}
    with transaction.atomic():
        types_by_key = bulk.existing_node_types(stored)
        checked = link_rules.check_links(
            pending,
            types_by_key,
            links_touching(pending),
            sealed=bulk.sealed_processes(stored),
        )
        _insert_links(checked)
        links_check_acyclic(new=checked, stored_targets=stored)
    return len(checked)


def links_check_acyclic(*, new: Sequence[Link], stored_targets: set[int]) -> None:
    """Refuse ``new`` links, just written in the open transaction, if they
    close a cycle of data provenance (``create`` and ``input_calc`` links;
    see :data:`nodes.links.PROVENANCE_TYPES`).

    A cycle made of new links alone is found among them; one that also runs
    through links stored before must enter a node of ``stored_targets`` (the
    pks that existed before this write), so only what those reach is walked.

    :raises StoringNotAllowed: if there is a cycle (the caller's transaction
        then rolls back).
    """
    kinds = sorted(kind.value for kind in link_rules.PROVENANCE_TYPES)
    new = [link for link in new if link.type in link_rules.PROVENANCE_TYPES]
    link_rules.check_acyclic((link.source, link.target) for link in new)
    risky = {link.target for link in new if link.target in stored_targets}
    if not risky:
        return
    reached = bulk.closure(risky, forward=kinds, backward=())
    link_rules.check_acyclic(
        (link.source, link.target)
        for link in bulk.links_by_end("input_id", reached, kinds)
        if link.target in reached
    )


# --- changing --------------------------------------------------------------

MUTABLE_FIELDS = frozenset({"label", "description", "extras"})


def node_update(
    *, node: DbNode, changes: Mapping[str, Any], replace_extras: bool = False
) -> DbNode:
    """Change a stored node's label, description or extras.

    ``extras`` are merged into the node's, key by key, as aiida-core's
    ``set_extra_many`` does (``Node.base.extras``); with ``replace_extras``
    they replace the node's whole, as ``reset_extras`` does.

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
        node.label = clean_text(changes["label"], "label", 255)
    if "description" in changes:
        node.description = clean_text(changes["description"], "description")
    if "extras" not in changes or replace_extras:
        if "extras" in changes:
            node.extras = clean_dict(changes["extras"], "extras")
        node.mtime = timezone.now()
        node.save(update_fields=[*changes, "mtime"])
        return node
    extras = clean_dict(changes["extras"], "extras")
    with transaction.atomic():
        # Read under a row lock, so concurrent merges each keep the other's keys.
        stored = DbNode.objects.select_for_update().only("extras").get(pk=node.pk)
        node.extras = {**stored.extras, **extras}
        node.mtime = timezone.now()
        node.save(update_fields=[*changes, "mtime"])
    return node


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
    label = clean_group_label(label).strip()
    try:
        with transaction.atomic():
            return DbGroup.objects.create(
                user=user,
                label=label,
                type_string=clean_text(type_string, "type_string", 255),
                description=clean_text(description, "description"),
                extras=clean_dict(extras, "extras"),
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
        bulk.existing_node_types(wanted)
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
            if name == "label":
                value = clean_group_label(changes[name])
            else:
                value = clean_text(
                    changes[name], name, 255 if name != "description" else None
                )
            setattr(group, name, value)
    if "extras" in changes:
        group.extras = clean_dict(changes["extras"], "extras")
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError:
        raise UniquenessError(
            f"a group labelled {group.label!r} of type {group.type_string!r} exists"
        ) from None
    return group
