"""The OpenAPI schema's error answers: every operation documents them.

Errors are ``{"detail": "..."}`` (validation errors add one key per field), so
one ``Error`` component serves every status. Which statuses an operation
documents follows from what the site does:

- 400 bad input, 403 no permission (also an anonymous write), 404 a missing
  object or route, 429 throttled, 503 a schema mismatch or a query timeout;
- writes also 409 (a uniqueness rule or an object in use) and, with a body,
  413 (request or file too large).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="what went wrong, in one sentence")


ERROR_DESCRIPTIONS = {
    "400": "Bad input: a malformed or unknown parameter or body value.",
    "403": "Not allowed: a write without a login, or on another user's object.",
    "404": "No such object.",
    "409": "Conflicts with stored data (a uniqueness rule, an object in use).",
    "413": "The request body or an uploaded file is too large.",
    "429": "Too many requests or failed logins; retry later.",
    "503": "The database schema does not match the code, or a query timed out.",
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema with the site's error answers on every operation."""

    def error_codes(self) -> list[str]:
        codes = ["400", "403", "404", "429", "503"]
        if self.method in WRITE_METHODS:
            codes.append("409")
        if self.method in {"POST", "PUT", "PATCH"}:
            codes.append("413")
        return sorted(codes)

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        bodies = super()._get_response_bodies(direction)
        if direction != "response":
            return bodies
        for code in self.error_codes():
            if code not in bodies:
                answer = OpenApiResponse(ErrorSerializer, ERROR_DESCRIPTIONS[code])
                bodies[code] = self._get_response_for_code(
                    answer, code, direction=direction
                )
        return bodies
