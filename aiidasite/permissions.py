"""Who may change what through the API: owners and staff write, everyone reads.

A view lists ``IsOwnerOrStaff`` in its ``permission_classes``; DRF asks it
about each object the view fetches with ``get_object()`` (or that the view
passes to ``check_object_permissions``). Nodes, groups and comments keep their
owner in ``user``; a view whose objects name it otherwise sets
``owner_field``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request


def is_owner_or_staff(user: Any, obj: Any, owner_field: str = "user") -> bool:
    """Whether ``user`` may change ``obj``: staff, or the user in its
    ``owner_field`` (a foreign key to the user model)."""
    if not (user and user.is_authenticated):
        return False
    if user.is_staff:
        return True
    return getattr(obj, f"{owner_field}_id", None) == user.pk


class IsOwnerOrStaff(permissions.IsAuthenticatedOrReadOnly):
    """Reads for everyone; writes for signed-in users on what they own, and
    for staff on everything."""

    message = "Only its owner or staff may change this object."

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return is_owner_or_staff(
            request.user, obj, getattr(view, "owner_field", "user")
        )
