"""Request rates of the API: per client address, per user, and failed logins.

Rates are DRF's (``"10/minute"``; ``None`` means unlimited) and are read from
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` on every request, so a changed
setting applies at once. Counts live in Django's cache: with the default
in-memory cache each server process counts on its own.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from drf_spectacular.authentication import BasicScheme
from rest_framework import authentication, exceptions, throttling
from rest_framework.request import Request
from rest_framework.settings import api_settings


class LiveRatesMixin:
    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonRateThrottle(LiveRatesMixin, throttling.AnonRateThrottle):
    """Requests of anonymous clients, per address (``anon`` rate)."""


class UserRateThrottle(LiveRatesMixin, throttling.UserRateThrottle):
    """Requests of signed-in users, per user (``user`` rate)."""


class FailedLoginThrottle(LiveRatesMixin, throttling.SimpleRateThrottle):
    """Failed password checks per client address (``login`` rate).

    Checked before a password is hashed, so guessing costs the guesser a
    429 rather than the server a key stretching; only failures count, so a
    script that signs in correctly is never slowed by it.
    """

    scope = "login"

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {
            "scope": self.scope,
            "ident": self.get_ident(request),
        }

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        self.now = self.timer()
        self.history = [
            stamp
            for stamp in self.cache.get(self.key, [])
            if stamp > self.now - self.duration
        ]
        return len(self.history) < self.num_requests

    def record_failure(self) -> None:
        if self.rate is not None:
            self.throttle_success()


class ThrottledBasicAuthentication(authentication.BasicAuthentication):
    """HTTP Basic authentication that refuses clients guessing passwords.

    :raises Throttled: 429 once the address has used up its failed logins.
    """

    def authenticate(self, request: Request) -> Any:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != b"basic":
            return None
        guard = FailedLoginThrottle()
        if not guard.allow_request(request, None):
            raise exceptions.Throttled(
                guard.wait(), detail="Too many failed logins; try again later."
            )
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            guard.record_failure()
            raise


class ThrottledBasicScheme(BasicScheme):
    """The OpenAPI schema's name for :class:`ThrottledBasicAuthentication`."""

    target_class = ThrottledBasicAuthentication


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    """The admin's login form, under the same failed-login rate as the API."""

    def clean(self) -> dict[str, Any]:
        guard = FailedLoginThrottle()
        if not guard.allow_request(self.request, None):
            raise ValidationError(
                "Too many failed logins; try again later.", code="throttled"
            )
        try:
            return super().clean()
        except ValidationError:
            guard.record_failure()
            raise
