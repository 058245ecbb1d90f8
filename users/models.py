"""What AiiDA keeps of a user beyond Django's auth user.

Django's user already has AiiDA's ``email``, ``first_name`` and
``last_name``; the institution lives in a one-to-one profile row, so the
project keeps Django's own user model (no ``AUTH_USER_MODEL`` swap).
Archives identify users by e-mail.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class UserProfile(models.Model):
    """AiiDA's user fields that Django's user lacks; a user may have none yet."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="aiida_profile",
    )
    institution = models.CharField(max_length=254, blank=True, default="")

    class Meta:
        db_table = "db_dbuser_profile"
        verbose_name = "AiiDA profile"

    def __str__(self) -> str:
        return f"{self.user} ({self.institution or 'no institution'})"
