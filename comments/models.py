"""Comments users write on nodes, in AiiDA's ``db_dbcomment`` table."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class DbComment(models.Model):
    """A note by ``user`` on ``dbnode``; it goes when the node goes."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Indexed: a node's comments are read on every node page.
    dbnode = models.ForeignKey(
        "nodes.DbNode", on_delete=models.CASCADE, related_name="dbcomments"
    )
    ctime = models.DateTimeField(default=timezone.now)
    # Not auto_now: imports keep the mtime they bring.
    mtime = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dbcomments"
    )
    content = models.TextField()

    class Meta:
        db_table = "db_dbcomment"
        verbose_name = "comment"

    def __str__(self) -> str:
        return f"comment {self.pk} on node {self.dbnode_id}"
