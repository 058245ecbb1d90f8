"""AiiDA's link rules as pure functions: no database, easy to test.

Which link type may join which kinds of node, and what must stay unique:

====== ============ ============ ============================ ==========================
type   source       target       at the target                at the source
====== ============ ============ ============================ ==========================
create calculation  data         one creator only             label unique (create)
return workflow     data         (source, label) not repeated label unique (return)
input  data         process      label unique among its type  --
call   workflow     process      one caller only              --
====== ============ ============ ============================ ==========================

The services fetch the links already in the database that could clash with a
batch of new ones and hand both to :func:`check_links`.
"""

from __future__ import annotations

import keyword
from collections.abc import Collection, Iterable, Mapping
from typing import NamedTuple

from aiidasite.exceptions import (
    InputValidationError,
    ModificationNotAllowed,
    StoringNotAllowed,
)
from nodes import types
from nodes.models import LinkType

# (test on the source type, test on the target type, wording for the error)
ALLOWED = {
    LinkType.CREATE: (types.is_calculation, types.is_data, "calculation", "data"),
    LinkType.RETURN: (types.is_workflow, types.is_data, "workflow", "data"),
    LinkType.INPUT_CALC: (types.is_data, types.is_calculation, "data", "calculation"),
    LinkType.INPUT_WORK: (types.is_data, types.is_workflow, "data", "workflow"),
    LinkType.CALL_CALC: (
        types.is_workflow,
        types.is_calculation,
        "workflow",
        "calculation",
    ),
    LinkType.CALL_WORK: (types.is_workflow, types.is_workflow, "workflow", "workflow"),
}

# Link types whose label must be unique among the source's outgoing links.
UNIQUE_LABEL_AT_SOURCE = frozenset({LinkType.CREATE, LinkType.RETURN})
# Link types whose label must be unique among the target's incoming links.
UNIQUE_LABEL_AT_TARGET = frozenset({LinkType.INPUT_CALC, LinkType.INPUT_WORK})
# Link types of which a target may have only one.
ONE_PER_TARGET = frozenset({LinkType.CREATE, LinkType.CALL_CALC, LinkType.CALL_WORK})
CALL_TYPES = frozenset({LinkType.CALL_CALC, LinkType.CALL_WORK})
# The links of data provenance, which may never go round in a cycle; a
# workflow may return one of its own inputs (aiida-core walks ancestors
# along these types only).
PROVENANCE_TYPES = frozenset({LinkType.CREATE, LinkType.INPUT_CALC})


class Link(NamedTuple):
    """One link by the primary keys of its ends."""

    source: int
    target: int
    label: str
    type: str


# The width of the label column (varchar(255) on PostgreSQL); SQLite would
# store longer ones, so the limit is checked here for both databases.
MAX_LABEL_LENGTH = 255


def validate_label(label: object) -> str:
    """Return ``label`` if AiiDA would accept it as a link label.

    The character rule is aiida-core's ``validate_link_label`` (in
    ``aiida/common/links.py``), which its importer applies too; the length
    is the column's.

    :raises InputValidationError: unless it is a valid identifier of
        ``[A-Za-z0-9_]``, not a keyword, neither starting nor ending with
        ``_``, of at most :data:`MAX_LABEL_LENGTH` characters.
    """
    if isinstance(label, str) and len(label) > MAX_LABEL_LENGTH:
        raise InputValidationError(
            f"invalid link label {label[:20]!r}... ({len(label)} characters): "
            f"at most {MAX_LABEL_LENGTH} characters"
        )
    if (
        not isinstance(label, str)
        or not label.isidentifier()
        or not label.isascii()
        or keyword.iskeyword(label)
        or label.startswith("_")
        or label.endswith("_")
    ):
        raise InputValidationError(
            f"invalid link label {label!r}: use letters, digits and underscores, "
            "not starting with a digit nor starting or ending with '_'"
        )
    return label


def validate_link_type(link_type: object) -> LinkType:
    """The :class:`LinkType` named by ``link_type`` (any case).

    :raises InputValidationError: for an unknown type.
    """
    if isinstance(link_type, str):
        try:
            return LinkType(link_type.lower())
        except ValueError:
            pass
    known = ", ".join(LinkType.values)
    raise InputValidationError(f"invalid link type {link_type!r}: one of {known}")


def check_endpoints(link: Link, source_type: str, target_type: str) -> None:
    """Refuse self-links and links between kinds the link type does not join.

    :raises StoringNotAllowed: naming the rule that is broken.
    """
    if link.source == link.target:
        raise StoringNotAllowed(f"cannot link node {link.source} to itself")
    source_ok, target_ok, source_kind, target_kind = ALLOWED[LinkType(link.type)]
    if not source_ok(source_type) or not target_ok(target_type):
        raise StoringNotAllowed(
            f"a {link.type} link goes from a {source_kind} node to a {target_kind} "
            f"node, not from {types.class_name(source_type)}<{link.source}> to "
            f"{types.class_name(target_type)}<{link.target}>"
        )


def check_unsealed(link: Link, sealed: Collection[int]) -> None:
    """Refuse a link from or to a sealed process node.

    :raises ModificationNotAllowed: naming the sealed end.
    """
    if link.source in sealed:
        raise ModificationNotAllowed(
            f"cannot add {link.type} link {link.label!r} from node {link.source}: "
            "it is a sealed process"
        )
    if link.target in sealed:
        raise ModificationNotAllowed(
            f"cannot add {link.type} link {link.label!r} to node {link.target}: "
            "it is a sealed process"
        )


class _Seen:
    """The uniqueness keys of the links accepted so far."""

    def __init__(self) -> None:
        self.source_labels: set[tuple[int, str, str]] = set()
        self.target_labels: set[tuple[int, str, str]] = set()
        self.single_targets: set[tuple[int, str]] = set()

    def clash(self, link: Link) -> str | None:
        kind = LinkType(link.type)
        if (
            kind in ONE_PER_TARGET
            and (link.target, _family(kind)) in self.single_targets
        ):
            if kind is LinkType.CREATE:
                return f"node {link.target} already has a creator"
            return f"node {link.target} already has a caller"
        key = (link.source, link.type, link.label)
        if kind in UNIQUE_LABEL_AT_SOURCE and key in self.source_labels:
            return (
                f"node {link.source} already has an outgoing {link.type} link "
                f"labelled {link.label!r}"
            )
        key = (link.target, link.type, link.label)
        if kind in UNIQUE_LABEL_AT_TARGET and key in self.target_labels:
            return (
                f"node {link.target} already has an incoming {link.type} link "
                f"labelled {link.label!r}"
            )
        return None

    def add(self, link: Link) -> None:
        kind = LinkType(link.type)
        if kind in ONE_PER_TARGET:
            self.single_targets.add((link.target, _family(kind)))
        if kind in UNIQUE_LABEL_AT_SOURCE:
            self.source_labels.add((link.source, link.type, link.label))
        if kind in UNIQUE_LABEL_AT_TARGET:
            self.target_labels.add((link.target, link.type, link.label))


def _family(kind: LinkType) -> str:
    # A process has one caller, whether the call is call_calc or call_work.
    return "call" if kind in CALL_TYPES else kind.value


def check_links(
    new: Iterable[Link],
    node_types: Mapping[int, str],
    existing: Iterable[Link] = (),
    sealed: Collection[int] = (),
) -> list[Link]:
    """Validate ``new`` links against each other and against ``existing`` ones.

    ``node_types`` maps every node the new links touch to its ``node_type``;
    ``existing`` holds the stored links into the new links' targets and out of
    their sources (more is harmless); ``sealed`` holds the sealed process
    nodes among the ends, which take no new link in or out (aiida-core's
    ``ProcessNode.validate_incoming`` and ``validate_outgoing``). Returns the
    new links, normalized (link types lowercased).

    :raises InputValidationError: for a malformed label or link type.
    :raises ModificationNotAllowed: for a link into or out of a node of
        ``sealed``.
    :raises StoringNotAllowed: for the first link that breaks a rule, or one
        whose end is missing from ``node_types``.
    """
    seen = _Seen()
    for link in existing:
        seen.add(link)
    accepted = []
    for raw in new:
        link = Link(
            raw.source,
            raw.target,
            validate_label(raw.label),
            validate_link_type(raw.type).value,
        )
        for end in (link.source, link.target):
            if end not in node_types:
                raise StoringNotAllowed(f"cannot link to node {end}: it is not stored")
        check_endpoints(link, node_types[link.source], node_types[link.target])
        check_unsealed(link, sealed)
        problem = seen.clash(link)
        if problem:
            raise StoringNotAllowed(
                f"cannot add {link.type} link {link.label!r} from {link.source} "
                f"to {link.target}: {problem}"
            )
        seen.add(link)
        accepted.append(link)
    return accepted


def check_acyclic(links: Iterable[tuple[int, int]]) -> None:
    """Refuse ``(source, target)`` pairs that go round in a circle.

    Callers pass the links of :data:`PROVENANCE_TYPES`: aiida-core refuses a
    ``create`` or ``input`` link whose source descends from its target along
    those types (``NodeLinks.validate_incoming`` in
    ``aiida/orm/nodes/links.py``). Kahn's algorithm, linear in the number of
    links.

    :raises StoringNotAllowed: naming nodes on or after a cycle.
    """
    outgoing: dict[int, list[int]] = {}
    indegree: dict[int, int] = {}
    for source, target in links:
        outgoing.setdefault(source, []).append(target)
        indegree[target] = indegree.get(target, 0) + 1
        indegree.setdefault(source, 0)
    ready = [node for node, count in indegree.items() if count == 0]
    while ready:
        node = ready.pop()
        for target in outgoing.get(node, ()):
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    stuck = sorted(node for node, count in indegree.items() if count > 0)
    if stuck:
        shown = ", ".join(map(str, stuck[:5]))
        raise StoringNotAllowed(
            f"the links would make a provenance cycle (among nodes {shown})"
        )
