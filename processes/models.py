"""Process nodes as their own admin list: the same rows as ``db_dbnode``."""

from __future__ import annotations

from django.db import models

from nodes.models import DbNode


class ProcessManager(models.Manager):
    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(node_type__startswith="process.")


class ProcessNode(DbNode):
    """A process node (calculation or workflow); a view of ``db_dbnode``."""

    objects = ProcessManager()

    class Meta:
        proxy = True
        verbose_name = "process"
        verbose_name_plural = "processes"

    def __str__(self) -> str:
        return super().__str__()
