"""Computers that calculations ran on and codes sit on, and the users'
credentials for them (auth infos), in AiiDA's tables."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class DbComputer(models.Model):
    """A machine AiiDA submits to: its scheduler and transport plugins and
    their settings (``metadata``, e.g. ``workdir``, ``mpirun_command``)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    label = models.CharField(max_length=255, unique=True)
    hostname = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(blank=True, default="")
    scheduler_type = models.CharField(max_length=255, blank=True, default="")
    transport_type = models.CharField(max_length=255, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "db_dbcomputer"
        verbose_name = "computer"

    def __str__(self) -> str:
        return f"{self.label} ({self.hostname})" if self.hostname else self.label


class DbAuthInfo(models.Model):
    """How one user reaches one computer; ``auth_params`` may hold secrets
    (usernames, key files), so only staff ever see it."""

    aiidauser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="authinfos"
    )
    # A computer's credentials go with it (aiida-core cascades too).
    dbcomputer = models.ForeignKey(
        DbComputer, on_delete=models.CASCADE, related_name="authinfos"
    )
    auth_params = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)

    class Meta:
        db_table = "db_dbauthinfo"
        verbose_name = "auth info"
        constraints = [
            models.UniqueConstraint(
                fields=["aiidauser", "dbcomputer"], name="db_dbauthinfo_user_computer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.aiidauser} on {self.dbcomputer}"
