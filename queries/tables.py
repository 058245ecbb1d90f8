"""SQLAlchemy tables derived from the Django models.

The Django models are the one source of truth: every column here comes from a
model field's ``_meta``. Values are decoded here rather than by the drivers,
because the engine reads through Django's connections, whose type casters
Django owns (``jsonb`` arrives as text, SQLite ``datetime`` columns may
arrive parsed or as text).
"""

from __future__ import annotations

import datetime
import functools
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["AwareDateTime", "JSONDocument", "Tables", "UUIDText", "get_tables"]


class AwareDateTime(TypeDecorator):
    """A Django ``DateTimeField``: aware datetimes in, aware UTC datetimes out.

    On SQLite Django stores UTC text (``2024-05-01 10:00:00.250000``); bound
    values take the same form so text comparison orders them correctly.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String())
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        value = value.astimezone(datetime.UTC)
        if dialect.name == "sqlite":
            return str(value.replace(tzinfo=None))
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.UTC)
        return value.astimezone(datetime.UTC)


# 32 lowercase hex digits: a UUID as Django keeps it on SQLite.
_HEX32 = re.compile("[0-9a-f]{32}")
# The canonical form, as PostgreSQL prints a uuid.
_CANONICAL = re.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class UUIDText(TypeDecorator):
    """A Django ``UUIDField``: 32 hex characters on SQLite, ``uuid`` on PostgreSQL.

    Results are canonical strings (``"1b4e28ba-2fa1-11d2-883f-0016d3cca427"``).
    """

    impl = sa.String(36)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
        return value.hex if dialect.name == "sqlite" else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, str) and _CANONICAL.fullmatch(value):
            # PostgreSQL's form: already what is returned.
            return value
        if isinstance(value, str) and _HEX32.fullmatch(value):
            # SQLite's form, as Django writes it: dashes put in, which is
            # what uuid.UUID would print, at a fifth of the cost per row.
            return "-".join(
                (value[:8], value[8:12], value[12:16], value[16:20], value[20:])
            )
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(value))


class JSONDocument(TypeDecorator):
    """A Django ``JSONField``, or any JSON fragment extracted from one.

    Values arrive as JSON text from both databases and are decoded here; a
    value a driver already decoded passes through.
    """

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else json.dumps(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return json.loads(value) if isinstance(value, str | bytes) else value


_COLUMN_TYPES: dict[str, Any] = {
    "AutoField": sa.Integer,
    "BigAutoField": sa.BigInteger,
    "SmallAutoField": sa.SmallInteger,
    "IntegerField": sa.Integer,
    "BigIntegerField": sa.BigInteger,
    "SmallIntegerField": sa.SmallInteger,
    "PositiveIntegerField": sa.Integer,
    "PositiveBigIntegerField": sa.BigInteger,
    "PositiveSmallIntegerField": sa.SmallInteger,
    "FloatField": sa.Float,
    "BooleanField": sa.Boolean,
    "TextField": sa.Text,
    "DateTimeField": AwareDateTime,
    "UUIDField": UUIDText,
    "JSONField": JSONDocument,
}


def _column_type(field: models.Field) -> TypeEngine:
    internal = field.get_internal_type()
    if internal in {"CharField", "EmailField", "SlugField", "URLField"}:
        return sa.String(field.max_length)
    if internal in _COLUMN_TYPES:
        return _COLUMN_TYPES[internal]()
    raise TypeError(
        f"{field.model.__name__}.{field.name}: no column type for {internal}"
    )


def _column(field: models.Field) -> sa.Column:
    if field.is_relation:
        target = field.target_field
        return sa.Column(
            field.column,
            _column_type(target),
            sa.ForeignKey(f"{target.model._meta.db_table}.{target.column}"),
            nullable=field.null,
        )
    return sa.Column(
        field.column,
        _column_type(field),
        primary_key=field.primary_key,
        nullable=field.null,
    )


def table_for(model: type[models.Model], metadata: sa.MetaData) -> sa.Table:
    """The table of ``model``: one column per concrete field, FKs included."""
    return sa.Table(
        model._meta.db_table,
        metadata,
        *(_column(field) for field in model._meta.concrete_fields),
    )


@dataclass(frozen=True)
class Tables:
    metadata: sa.MetaData
    user: sa.Table
    node: sa.Table
    link: sa.Table
    group: sa.Table
    group_nodes: sa.Table
    computer: sa.Table
    authinfo: sa.Table
    comment: sa.Table
    log: sa.Table


@functools.cache
def get_tables() -> Tables:
    """The graph's tables, derived once from the installed models."""
    node_model = apps.get_model("nodes", "DbNode")
    group_model = apps.get_model("nodes", "DbGroup")
    metadata = sa.MetaData()
    return Tables(
        metadata=metadata,
        user=table_for(get_user_model(), metadata),
        node=table_for(node_model, metadata),
        link=table_for(apps.get_model("nodes", "DbLink"), metadata),
        group=table_for(group_model, metadata),
        group_nodes=table_for(group_model.dbnodes.through, metadata),
        computer=table_for(apps.get_model("computers", "DbComputer"), metadata),
        authinfo=table_for(apps.get_model("computers", "DbAuthInfo"), metadata),
        comment=table_for(apps.get_model("comments", "DbComment"), metadata),
        log=table_for(apps.get_model("logs", "DbLog"), metadata),
    )
