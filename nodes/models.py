"""The provenance graph, in AiiDA's tables: nodes, links and groups."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from nodes import types


class LinkType(models.TextChoices):
    """AiiDA's link types, stored lowercase as AiiDA stores them."""

    CREATE = "create"
    RETURN = "return"
    INPUT_CALC = "input_calc"
    INPUT_WORK = "input_work"
    CALL_CALC = "call_calc"
    CALL_WORK = "call_work"


class DbNode(models.Model):
    """A node of the graph: a piece of data or a process.

    ``node_type`` is AiiDA's dotted type string (``data.core.int.Int.``); its
    prefixes name the type's ancestors, so subtype matching is a prefix match.
    ``repository_metadata`` is the serialized file tree whose leaves are keys
    in the file repository.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Kept beside db_dbnode_type_ctime: on PostgreSQL this also builds the
    # pattern index that prefix (subtype) filters need.
    node_type = models.CharField(max_length=255, db_index=True)
    # AiiDA stores NULL for nodes that are not processes; archives keep it so.
    process_type = models.CharField(  # noqa: DJ001
        max_length=255, null=True, blank=True, db_index=True
    )
    label = models.CharField(max_length=255, blank=True, default="", db_index=True)
    description = models.TextField(blank=True, default="")
    ctime = models.DateTimeField(default=timezone.now, db_index=True)
    # Not auto_now: imports must keep the mtime they bring.
    mtime = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dbnodes"
    )
    # The computer a calculation ran on or a code sits on; one in use cannot
    # be deleted.
    dbcomputer = models.ForeignKey(
        "computers.DbComputer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dbnodes",
    )
    attributes = models.JSONField(default=dict, blank=True)
    extras = models.JSONField(default=dict, blank=True)
    repository_metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "db_dbnode"
        verbose_name = "node"
        indexes = [
            # Listings filtered by type and ordered or ranged by time.
            models.Index(fields=["node_type", "ctime"], name="db_dbnode_type_ctime"),
        ]

    def __str__(self) -> str:
        kind = self.node_type.rstrip(".").rsplit(".", 1)[-1] or "Node"
        return f"{kind}<{self.pk}>" + (f" {self.label}" if self.label else "")

    @property
    def is_data(self) -> bool:
        return types.is_data(self.node_type)

    @property
    def is_process(self) -> bool:
        return types.is_process(self.node_type)

    @property
    def is_calculation(self) -> bool:
        return types.is_calculation(self.node_type)

    @property
    def is_workflow(self) -> bool:
        return types.is_workflow(self.node_type)

    def is_a(self, node_type: str) -> bool:
        """Whether this node is of ``node_type`` or one of its subtypes."""
        return types.is_subtype(self.node_type, node_type)


class DbLink(models.Model):
    """A typed, labelled edge from ``input`` to ``output``."""

    # Both ends are indexed as the leading column of the (end, type) indexes.
    input = models.ForeignKey(
        DbNode, on_delete=models.CASCADE, related_name="output_links", db_index=False
    )
    output = models.ForeignKey(
        DbNode, on_delete=models.CASCADE, related_name="input_links", db_index=False
    )
    label = models.CharField(max_length=255, db_index=True)
    type = models.CharField(max_length=255, choices=LinkType.choices, db_index=True)

    class Meta:
        db_table = "db_dblink"
        verbose_name = "link"
        indexes = [
            # Deletion and provenance walks: "links of these types out of /
            # into this set of nodes". Each also holds the far end, so a walk
            # step reads the index alone, never the table.
            models.Index(
                fields=["input", "type", "output"], name="db_dblink_input_walk"
            ),
            models.Index(
                fields=["output", "type", "input"], name="db_dblink_output_walk"
            ),
        ]
        # The link rules that a concurrent writer could otherwise break
        # between the services' checks and their INSERT.
        constraints = [
            models.UniqueConstraint(
                fields=["output"],
                condition=models.Q(type="create"),
                name="db_dblink_one_creator",
            ),
            models.UniqueConstraint(
                fields=["output"],
                condition=models.Q(type__in=["call_calc", "call_work"]),
                name="db_dblink_one_caller",
            ),
            models.UniqueConstraint(
                fields=["output", "type", "label"],
                condition=models.Q(type__in=["input_calc", "input_work"]),
                name="db_dblink_unique_input_label",
            ),
            models.UniqueConstraint(
                fields=["input", "type", "label"],
                condition=models.Q(type__in=["create", "return"]),
                name="db_dblink_unique_output_label",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.input_id} --{self.type}:{self.label}--> {self.output_id}"


class DbGroup(models.Model):
    """A named set of nodes; ``(label, type_string)`` is unique."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    label = models.CharField(max_length=255, db_index=True)
    type_string = models.CharField(max_length=255, default="core", db_index=True)
    time = models.DateTimeField(default=timezone.now)
    description = models.TextField(blank=True, default="")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dbgroups"
    )
    extras = models.JSONField(default=dict, blank=True)
    dbnodes = models.ManyToManyField(
        DbNode, related_name="dbgroups", db_table="db_dbgroup_dbnodes", blank=True
    )

    class Meta:
        db_table = "db_dbgroup"
        # Not plain "group": the admin would show two sections called
        # "Groups", these and Django's permission groups.
        verbose_name = "provenance group"
        constraints = [
            models.UniqueConstraint(
                fields=["label", "type_string"], name="db_dbgroup_label_type_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} [{self.type_string}]"


class DbNodeObject(models.Model):
    """A repository object that a node's file tree references.

    Mirrors the keys in ``DbNode.repository_metadata``: objects are shared by
    content, so deleting a node must ask whether any other node still uses
    each of its objects, and that question is an index lookup here rather
    than a read of every node's tree.
    """

    # No index of its own: the unique (node, key) index serves node lookups.
    node = models.ForeignKey(
        DbNode,
        on_delete=models.CASCADE,
        related_name="object_references",
        db_index=False,
    )
    key = models.CharField(max_length=255)

    class Meta:
        db_table = "db_dbnode_object"
        verbose_name = "object reference"
        indexes = [
            # "Is this object still referenced?" on deletion and maintenance;
            # a plain index, as keys are never matched with LIKE.
            models.Index(fields=["key"], name="db_dbnode_object_key"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["node", "key"], name="db_dbnode_object_node_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.node_id} -> {self.key}"
