"""What the queries API and commands call: one function per request."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, transaction

from aiidasite.exceptions import InputValidationError, NotExistent, PermissionDenied
from aiidasite.identifiers import pk_from_text
from aiidasite.limits import MAX_JSON_DEPTH, json_depth, uncomparable_value
from aiidasite.timeouts import database_time_limit, known_time_limit
from queries.builder import QueryBuilder
from queries.manager import QueryManager

__all__ = [
    "QueryResults",
    "bands_list",
    "closest_parents_get",
    "query_parse",
    "query_results",
    "statistics_get",
    "user_pk_get",
]

DEFAULT_MAX_ROWS = 10_000
DEFAULT_TIMEOUT_MS = 30_000


def user_pk_get(*, user: str | int) -> int:
    """The pk of the user named by ``user`` (a pk or a username).

    :raises NotExistent: no such user.
    """
    model = get_user_model()
    pk = pk_from_text(str(user))
    if pk is None and "\x00" in str(user):
        # No name holds NUL, and PostgreSQL refuses to even compare one.
        raise NotExistent(f"no user {str(user)!r}")
    lookup = {"pk": pk} if pk is not None else {"username": user}
    pk = model.objects.filter(**lookup).values_list("pk", flat=True).first()
    if pk is None:
        raise NotExistent(f"no user {str(user)!r}")
    return pk


# Matches no user: what an unknown user's statistics are computed for.
NO_USER_PK = 0


def statistics_get(
    *, user: str | int | None = None, unknown_user_empty: bool = False
) -> dict[str, Any]:
    """Creation statistics of every node, or of one user's (pk or username).

    With ``unknown_user_empty`` an unknown user gets the statistics of a user
    without nodes, so the answer does not tell which usernames exist.

    :raises NotExistent: no such user (unless ``unknown_user_empty``).
    """
    user_pk = _user_pk_or_none(user, unknown_user_empty=unknown_user_empty)
    return QueryManager().get_creation_statistics(user_pk=user_pk)


def _user_pk_or_none(user: str | int | None, *, unknown_user_empty: bool) -> int | None:
    """The pk of ``user`` (None for no user); an unknown one is NO_USER_PK
    with ``unknown_user_empty``, else :class:`NotExistent`."""
    if user in (None, ""):
        return None
    try:
        return user_pk_get(user=user)
    except NotExistent:
        if not unknown_user_empty:
            raise
        return NO_USER_PK


def bands_list(
    *,
    past_days: int | None = None,
    groups: list[str] | None = None,
    user: str | int | None = None,
    unknown_user_empty: bool = False,
) -> list[dict[str, Any]]:
    """BandsData with the formula of their nearest structure; ``user`` None: all.

    With ``unknown_user_empty`` an unknown user has no bands (as for
    :func:`statistics_get`).

    :raises NotExistent: no such group, or user (unless ``unknown_user_empty``).
    """
    user_pk = _user_pk_or_none(user, unknown_user_empty=unknown_user_empty)
    return QueryManager().get_bands_and_parents_structure(
        past_days=past_days, groups=groups or None, user_pk=user_pk
    )


def closest_parents_get(
    *, pks: list[int], node_type: str | None = None, print_progress: bool = False
) -> dict[int, int | None]:
    """Each pk with its nearest ancestor of ``node_type`` (None: any type).

    :raises NotExistent: a pk with no node.
    :raises InputValidationError: a malformed pk or type.
    """
    return QueryManager().get_closest_parents(
        pks, node_type=node_type, print_progress=print_progress
    )


@contextlib.contextmanager
def statement_timeout(alias: str, milliseconds: int) -> Iterator[None]:
    """Cancel any statement of the block that runs longer than ``milliseconds``.

    PostgreSQL enforces it itself (``SET LOCAL`` ends with the block's
    transaction); on SQLite a progress handler interrupts the statement.
    """
    wrapper = connections[alias]
    if wrapper.vendor == "postgresql":
        if not wrapper.in_atomic_block and known_time_limit(alias) == milliseconds:
            # The request's own limit is this one: nothing to add.
            yield
            return
        with transaction.atomic(using=alias), wrapper.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = %s", [int(milliseconds)])
            yield
        return
    # No transaction here: SQLite's BEGIN IMMEDIATE would lock out writers.
    with database_time_limit(milliseconds, alias):
        yield


class QueryResults:
    """The rows of a JSON query as a sliceable sequence, for a paginator.

    At most ``max_rows`` rows are ever read, whatever the query's own limit;
    every database round trip runs under the statement timeout.
    """

    def __init__(
        self,
        query: QueryBuilder,
        *,
        max_rows: int,
        timeout_ms: int,
        alias: str,
        hidden_email_tags: tuple[str, ...] = (),
    ) -> None:
        # Read only: the query's own parts, not a deep copy of them.
        data = query._parts()
        self._hidden_email_tags = hidden_email_tags
        self._query = query
        self._alias = alias
        self._timeout_ms = timeout_ms
        self._start = data["offset"] or 0
        limit = data["limit"]
        self._rows = max_rows if limit is None else min(limit, max_rows)
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            query = self._window(0, self._rows)
            with statement_timeout(self._alias, self._timeout_ms):
                self._count = query.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def _window(self, begin: int, end: int) -> QueryBuilder:
        return self._query.window(self._start + begin, max(end - begin, 0))

    def __getitem__(self, index: slice) -> list[dict[str, Any]]:
        if not isinstance(index, slice):
            raise TypeError("QueryResults are read in slices")
        begin, end, _ = index.indices(self._rows)
        if end <= begin:
            return []
        with statement_timeout(self._alias, self._timeout_ms):
            rows = self._window(begin, end).dict()
        for row in rows:
            for tag in self._hidden_email_tags:
                values = row.get(tag, {})
                for fields in (values, values.get("*")):
                    if isinstance(fields, dict) and "email" in fields:
                        fields["email"] = None
        return rows


def query_results(
    *,
    query: Any,
    alias: str = "default",
    hide_emails: bool = False,
    staff: bool = True,
) -> QueryResults:
    """The rows of the JSON ``query`` (see :mod:`queries.builder`), capped.

    Auth infos are for ``staff`` only: others asking for them get
    :class:`~aiidasite.exceptions.NotExistent`, as if there were none.

    The cap (``AIIDASITE_QUERY_MAX_ROWS``, default 10,000) and the statement
    timeout (``AIIDASITE_QUERY_TIMEOUT_MS``, default 30,000) come from the
    settings. A query without an order is ordered by its entities' ids
    (:meth:`~queries.builder.QueryBuilder.order_by_ids`), so pages do not
    overlap. With ``hide_emails`` users' e-mails come out as
    ``None`` and may not be filtered or ordered on.

    :raises InputValidationError: a malformed query, or one holding an
        integer beyond 64 bits.
    :raises PermissionDenied: with ``hide_emails``, a filter or order on
        users' e-mails.
    """
    builder = query_from_dict(query, alias=alias)
    if not staff and builder.tags("authinfo"):
        raise NotExistent("auth infos are shown to staff only")
    data = builder._parts()
    if not data["order_by"] and not data["distinct"]:
        builder.order_by_ids()
    return QueryResults(
        builder,
        max_rows=getattr(settings, "AIIDASITE_QUERY_MAX_ROWS", DEFAULT_MAX_ROWS),
        timeout_ms=getattr(settings, "AIIDASITE_QUERY_TIMEOUT_MS", DEFAULT_TIMEOUT_MS),
        alias=alias,
        hidden_email_tags=_email_tags(builder) if hide_emails else (),
    )


def query_from_dict(query: Any, *, alias: str = "default") -> QueryBuilder:
    """:meth:`QueryBuilder.from_dict`, refusing values the databases compare
    differently: integers beyond 64 bits (limits, offsets, filter values) and
    text holding NUL.

    :raises InputValidationError: a malformed query or such a value.
    """
    problem = uncomparable_value(query)
    if problem is not None:
        raise InputValidationError(f"{problem}, which a query cannot compare")
    return QueryBuilder.from_dict(query, alias=alias)


def _email_tags(builder: QueryBuilder) -> tuple[str, ...]:
    """The tags of users in ``builder``, refusing filters and orders on e-mail.

    :raises PermissionDenied: a filter or order on a user's e-mail.
    """
    data = builder._parts()
    tags = tuple(tag for tag, kind in builder._tags.items() if kind == "user")
    orders = [item.get(tag) for item in data["order_by"] for tag in tags]
    for spec in [data["filters"].get(tag) for tag in tags] + orders:
        if _names_email(spec):
            raise PermissionDenied("only staff may filter or order users by e-mail")
    return tags


def _names_email(spec: Any) -> bool:
    """Whether a filter or order spec has ``email`` among its field keys."""
    if isinstance(spec, dict):
        return any(
            str(key).split(".", 1)[0] == "email" or _names_email(value)
            for key, value in spec.items()
        )
    if isinstance(spec, list):
        return any(_names_email(item) for item in spec)
    return False


def query_parse(*, text: str, source: str = "the query") -> QueryBuilder:
    """The query written in QueryBuilder's JSON form in ``text``; ``source``
    names it in errors (a file name, ``-`` for standard input).

    :raises InputValidationError: text that is not JSON or nests deeper than
        ``MAX_JSON_DEPTH`` levels, or a malformed query.
    """
    try:
        data = json.loads(text)
    except RecursionError:
        data = None
    except json.JSONDecodeError as exc:
        raise InputValidationError(f"{source} is not JSON: {exc}") from None
    if data is None or json_depth(data) > MAX_JSON_DEPTH:
        raise InputValidationError(
            f"{source} nests deeper than {MAX_JSON_DEPTH} levels of lists and objects"
        )
    return query_from_dict(data)
