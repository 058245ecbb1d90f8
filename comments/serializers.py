"""How comments look over HTTP, and what POST and PATCH accept."""

from __future__ import annotations

from rest_framework import serializers

from comments.models import DbComment


class CommentSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True)
    node = serializers.IntegerField(source="dbnode_id", read_only=True)

    class Meta:
        model = DbComment
        fields = ["id", "uuid", "node", "user", "ctime", "mtime", "content"]
        read_only_fields = ["uuid", "ctime", "mtime"]


class CommentWriteSerializer(serializers.Serializer):
    # Blank passes here and is refused by the service, so the API and the
    # commands refuse the same things in the same words.
    content = serializers.CharField(allow_blank=True, trim_whitespace=False)
