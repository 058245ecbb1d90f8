from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core.signals import setting_changed
from django.db.backends.signals import connection_created


def _reset_on_databases_change(*, setting: str, **kwargs: Any) -> None:
    if setting == "DATABASES":
        from queries.session import reset_session

        reset_session()


class QueriesConfig(AppConfig):
    name = "queries"
    verbose_name = "Queries"

    def ready(self) -> None:
        from queries import casefold

        setting_changed.connect(_reset_on_databases_change)
        connection_created.connect(casefold.register)
