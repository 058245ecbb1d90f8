"""How nodes, links and groups look over HTTP, and what POST/PATCH accept."""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aiidasite.exceptions import InputValidationError
from aiidasite.times import TimeWriter, time_writer
from nodes import types
from nodes.models import DbGroup, DbLink, DbNode, LinkType


class NodeSummarySerializer(serializers.ModelSerializer):
    """A node in lists: no attributes, extras or files."""

    user = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = DbNode
        fields = [
            "id",
            "uuid",
            "node_type",
            "process_type",
            "label",
            "ctime",
            "mtime",
            "user",
        ]


# The columns of a node-list row: the summary's, with the owner's name.
NODE_LIST_COLUMNS = (
    *(name for name in NodeSummarySerializer.Meta.fields if name != "user"),
    "username",
)


def node_list_item(row: dict[str, Any], write_time: TimeWriter) -> dict[str, Any]:
    """One row of :data:`NODE_LIST_COLUMNS` as the node list shows it."""
    return {
        "id": row["id"],
        "uuid": str(row["uuid"]),
        "node_type": row["node_type"],
        "process_type": row["process_type"],
        "label": row["label"],
        "ctime": write_time(row["ctime"]),
        "mtime": write_time(row["mtime"]),
        "user": row["username"],
    }


class NodeListRowsSerializer(serializers.ListSerializer):
    """A page of node-list rows, the time zone looked up once for the page."""

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        write_time = time_writer()
        return [node_list_item(row, write_time) for row in data]


class NodeListItemSerializer(NodeSummarySerializer):
    """A node summary written without DRF's per-field machinery, which costs
    more than reading the row: a page of a hundred nodes is the API's most
    requested answer. The same fields and text as :class:`NodeSummarySerializer`
    (a test holds them equal), from rows (dicts) of :data:`NODE_LIST_COLUMNS`,
    which cost less to read than model instances."""

    class Meta(NodeSummarySerializer.Meta):
        list_serializer_class = NodeListRowsSerializer

    def to_representation(self, row: dict[str, Any]) -> dict[str, Any]:
        return node_list_item(row, time_writer())


class GroupMembersPageSerializer(serializers.Serializer):
    """A numbered page of a group's members (the node list pages by cursor)."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = NodeSummarySerializer(many=True)


class NodeSerializer(NodeSummarySerializer):
    """One node with everything it holds.

    Written by hand: DRF would build its thirteen fields anew for every
    answer, which costs more than reading the node. A test holds the text
    equal to what DRF's fields write."""

    computer = serializers.SlugRelatedField(
        source="dbcomputer",
        slug_field="label",
        read_only=True,
        help_text="label of the computer a calculation ran on or a code sits on",
    )

    class Meta(NodeSummarySerializer.Meta):
        fields = [
            *NodeSummarySerializer.Meta.fields,
            "computer",
            "description",
            "attributes",
            "extras",
            "repository_metadata",
        ]

    def to_representation(self, node: DbNode) -> dict[str, Any]:
        write_time = time_writer()
        computer = node.dbcomputer if node.dbcomputer_id is not None else None
        return {
            "id": node.pk,
            "uuid": str(node.uuid),
            "node_type": node.node_type,
            "process_type": node.process_type,
            "label": node.label,
            "ctime": write_time(node.ctime),
            "mtime": write_time(node.mtime),
            "user": node.user.username,
            "computer": computer.label if computer is not None else None,
            "description": node.description,
            "attributes": node.attributes,
            "extras": node.extras,
            "repository_metadata": node.repository_metadata,
        }


class LinkEndSerializer(serializers.ModelSerializer):
    class Meta:
        model = DbNode
        fields = ["id", "uuid", "node_type", "label"]

    def to_representation(self, node: DbNode) -> dict[str, Any]:
        return link_end(node)


def link_end(node: DbNode) -> dict[str, Any]:
    """A node at one end of a link, as :class:`LinkEndSerializer` shows it."""
    return {
        "id": node.pk,
        "uuid": str(node.uuid),
        "node_type": node.node_type,
        "label": node.label,
    }


class LinkSerializer(serializers.ModelSerializer):
    """A link with a summary of the nodes at both ends.

    Written by hand, as :class:`NodeSerializer` is (three serializers'
    fields per answer otherwise); a test holds the text equal to DRF's."""

    input = LinkEndSerializer(read_only=True)
    output = LinkEndSerializer(read_only=True)

    class Meta:
        model = DbLink
        fields = ["id", "input", "output", "label", "type"]

    def to_representation(self, link: DbLink) -> dict[str, Any]:
        return {
            "id": link.pk,
            "input": link_end(link.input),
            "output": link_end(link.output),
            "label": link.label,
            "type": link.type,
        }


def decode_form_json(data: Any) -> Any:
    """JSON sent as text (a multipart form field) decoded; anything else as is."""
    if not isinstance(data, str):
        return data
    try:
        return json.loads(data)
    except ValueError:
        raise serializers.ValidationError("not valid JSON") from None


class JSONObjectField(serializers.JSONField):
    """A JSON object, also accepted as a JSON string (multipart forms)."""

    def to_internal_value(self, data: Any) -> Any:
        data = decode_form_json(data)
        if not isinstance(data, dict):
            raise serializers.ValidationError("expected a JSON object")
        return super().to_internal_value(data)


class IncomingLinkSerializer(serializers.Serializer):
    source = serializers.CharField(help_text="pk or uuid of a stored node")
    label = serializers.CharField()
    type = serializers.ChoiceField(choices=LinkType.choices)


@extend_schema_field(IncomingLinkSerializer(many=True))
class IncomingLinksField(serializers.JSONField):
    """The links into a new node, as a list or a JSON string of one."""

    def to_internal_value(self, data: Any) -> Any:
        data = decode_form_json(data)
        if not isinstance(data, list):
            raise serializers.ValidationError("expected a list of links")
        links = IncomingLinkSerializer(data=data, many=True)
        links.is_valid(raise_exception=True)
        return links.validated_data


class NodeCreateSerializer(serializers.Serializer):
    """What POST /nodes/ takes: JSON, or a multipart form whose JSON fields
    are strings and whose uploaded files are named by their path."""

    node_type = serializers.CharField(help_text="type string or class name (Dict)")
    process_type = serializers.CharField(required=False, allow_null=True)
    label = serializers.CharField(required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    attributes = JSONObjectField(required=False, default=dict)
    extras = JSONObjectField(required=False, default=dict)
    links = IncomingLinksField(required=False, default=list)

    def validate_node_type(self, value: str) -> str:
        try:
            return types.resolve(value)
        except InputValidationError as exc:
            raise serializers.ValidationError(str(exc)) from None


class NodeUpdateSerializer(serializers.Serializer):
    """What PATCH /nodes/{id}/ may change."""

    label = serializers.CharField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    extras = serializers.JSONField(
        required=False,
        help_text="merged into the node's extras key by key (aiida's set_extra)",
    )
    replace = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: the given extras replace the node's whole",
    )


class DeleteQuerySerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(default=False)
    create_forward = serializers.BooleanField(default=True)
    call_calc_forward = serializers.BooleanField(default=True)
    call_work_forward = serializers.BooleanField(default=True)


class DeleteResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    deleted = serializers.ListField(child=serializers.IntegerField())
    also_deleted = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="rows that go with the nodes, by kind (comments, log records)",
    )


class FileEntrySerializer(serializers.Serializer):
    name = serializers.CharField()
    path = serializers.CharField()
    type = serializers.CharField(help_text="'file' or 'directory'")
    size = serializers.IntegerField(required=False, help_text="a file's bytes")
    children = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="a directory's entries, in the same form",
    )


class GroupSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True)
    node_count = serializers.IntegerField(read_only=True)
    extras = JSONObjectField(required=False, default=dict)

    class Meta:
        model = DbGroup
        fields = [
            "id",
            "uuid",
            "label",
            "type_string",
            "description",
            "time",
            "user",
            "extras",
            "node_count",
        ]
        read_only_fields = ["time"]
        # Uniqueness is the service's to check (and to answer 409).
        validators: list = []


class GroupMembersSerializer(serializers.Serializer):
    nodes = serializers.ListField(
        child=serializers.CharField(), help_text="pks or uuids", allow_empty=False
    )


class GroupMembersResultSerializer(serializers.Serializer):
    changed = serializers.IntegerField()
