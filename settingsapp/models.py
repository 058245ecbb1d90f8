"""The settings table, in AiiDA's ``db_dbsetting`` layout."""

from __future__ import annotations

from django.db import models

from settingsapp.jsonvalue import ExactJSONEncoder

KEY_MAX_LENGTH = 1024


class DbSetting(models.Model):
    """One key with a JSON value: profile-wide settings and the schema version.

    ``val`` is nullable because a JSON ``null`` is stored as SQL ``NULL``; both
    read back as ``None``, so the value round-trips either way.
    """

    key = models.CharField(max_length=KEY_MAX_LENGTH, unique=True)
    val = models.JSONField(null=True, blank=True, encoder=ExactJSONEncoder)
    description = models.TextField(blank=True, default="")
    time = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "db_dbsetting"
        verbose_name = "setting"
        ordering = ("key",)

    def __str__(self) -> str:
        return self.key
