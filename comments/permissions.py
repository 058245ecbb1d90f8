"""Who may change a comment."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request


class IsAuthorOrStaff(BasePermission):
    """Reads for everyone; changes by the object's ``user`` or by staff."""

    message = "only the author or staff may change this"

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        return bool(user and (user.is_staff or obj.user_id == user.pk))
