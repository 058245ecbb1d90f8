"""Log records of processes, in AiiDA's ``db_dblog`` table: what
``verdi process report`` shows."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class DbLog(models.Model):
    """One record a process logged; it goes when its node goes.

    ``levelname`` is Python's (``WARNING``, ``ERROR``) or AiiDA's own
    ``REPORT``; ``metadata`` is the log record's dictionary as AiiDA kept it.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    time = models.DateTimeField(default=timezone.now)
    loggername = models.CharField(max_length=255, blank=True, default="")
    levelname = models.CharField(max_length=50, db_index=True)
    dbnode = models.ForeignKey(
        "nodes.DbNode", on_delete=models.CASCADE, related_name="dblogs", db_index=False
    )
    message = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "db_dblog"
        verbose_name = "log record"
        indexes = [
            # A process report: one node's records in time order.
            models.Index(fields=["dbnode", "time"], name="db_dblog_node_time"),
        ]

    def __str__(self) -> str:
        return f"[{self.levelname}] node {self.dbnode_id}: {self.message[:60]}"
