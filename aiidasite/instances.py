"""Model instances from one row's values, as ``Model.from_db`` makes them.

``from_db`` calls ``Model.__init__``, which sends ``pre_init`` and
``post_init`` and stores each value through ``setattr``: 4 us for a node, a
third of what SQLite takes to find and return its row. For most models that
comes to writing the values into the new instance's ``__dict__``, which is
what :class:`Maker` does (1 us) while nothing could tell the difference: no
``pre_init`` or ``post_init`` receiver is connected, and the model has no
``__init__``, ``from_db`` or ``__setattr__`` of its own and no field whose
attribute does more when set. Otherwise it calls ``from_db``.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

# What a field's attribute may be for its value to go straight into
# ``__dict__``. Setting a foreign key's id also forgets the cached related
# object, which a new instance has not got.
_PLAIN_ATTRIBUTES = (DeferredAttribute, ForeignKeyDeferredAttribute)


def stores_plainly(model: type[Model], attnames: Sequence[str]) -> bool:
    """Whether ``Model.__init__`` only stores these fields' values in a new
    ``model`` instance's ``__dict__`` (signals aside)."""
    if (
        model.__init__ is not Model.__init__
        or model.__setattr__ is not Model.__setattr__
        or model.from_db.__func__ is not Model.from_db.__func__
    ):
        return False
    return all(
        type(inspect.getattr_static(model, attname, None)) in _PLAIN_ATTRIBUTES
        for attname in attnames
    )


class Maker:
    """``model`` instances from the values of ``attnames``, in that order."""

    def __init__(self, model: type[Model], attnames: Sequence[str]) -> None:
        self.model = model
        self.attnames = list(attnames)
        self.plain = stores_plainly(model, self.attnames)

    def __call__(self, values: Sequence[Any], using: str) -> Model:
        """What ``model.from_db(using, attnames, values)`` returns."""
        # Receivers connected for any model: Django's way, so they are sent.
        if not self.plain or pre_init.receivers or post_init.receivers:
            return self.model.from_db(using, self.attnames, values)
        obj = self.model.__new__(self.model)
        state = obj._state = ModelState()
        state.adding = False
        state.db = using
        obj.__dict__.update(zip(self.attnames, values, strict=True))
        return obj


@dataclass(frozen=True)
class Related:
    """An object ``select_related`` joins in: Django's ``RelatedPopulator``
    (where its columns are, how it is attached) and how it is made."""

    populator: Any
    make: Maker
    related: tuple[Related, ...]


def related(populators: Sequence[Any]) -> tuple[Related, ...]:
    """:class:`Related` of Django's populators (``get_related_populators``)."""
    return tuple(
        Related(
            populator=populator,
            make=Maker(populator.model_cls, populator.init_list),
            related=related(populator.related_populators),
        )
        for populator in populators
    )


def populate(joined: tuple[Related, ...], row: Sequence[Any], obj: Model) -> None:
    """Attach to ``obj`` the objects ``joined`` in ``row``, as
    ``RelatedPopulator.populate`` does: None where the join found no row."""
    for item in joined:
        populator = item.populator
        if populator.reorder_for_init:
            values = populator.reorder_for_init(row)
        else:
            values = row[populator.cols_start : populator.cols_end]
        found = None
        if values[populator.pk_idx] is not None:
            found = item.make(values, populator.db)
            populate(item.related, row, found)
        populator.local_setter(obj, found)
        if found is not None:
            populator.remote_setter(found, obj)
