"""Field and index declarations that the models of every app repeat, in one place.

It imports only Django, so every floor may use it, core/accounts (the bottom one) included. Each helper
returns exactly the field or index the models declared by hand before, so using it changes no schema.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


def ref(
    to: type[models.Model] | str, verbose_name: str, *, optional: bool = False, **options
) -> models.ForeignKey:
    """A foreign key the way our records point at what they are about: the target cannot be deleted
    while a record names it (PROTECT: a case, a payment line or an access-log row must keep its person,
    household and user), and the target gets no reverse accessor (related_name "+"), because nobody asks
    a person for every row that mentions them.

    `optional=True`: a record may lack the reference (null in the database, blank in forms). Anything
    else that differs is said at the call: `null=True` alone (the registry's 登记人, a column that may be
    empty though a form may not leave it so), another `on_delete`."""
    if optional:
        options = {"null": True, "blank": True, **options}
    options.setdefault("on_delete", models.PROTECT)
    options.setdefault("related_name", "+")
    return models.ForeignKey(to, verbose_name=verbose_name, **options)


def user_ref(verbose_name: str, *, optional: bool = False, **options) -> models.ForeignKey:
    """Who entered, decided, locked … a record (录入人, 确认人, 锁定人): a `ref` to the user model."""
    return ref(settings.AUTH_USER_MODEL, verbose_name, optional=optional, **options)


def prefix_index(field: str, name: str) -> models.Index:
    """A B-tree index that serves `LIKE 'prefix%'` on PostgreSQL (varchar_pattern_ops).

    Other backends ignore the operator class and create a plain index."""
    return models.Index(fields=[field], name=name, opclasses=["varchar_pattern_ops"])


def region_prefix_index(name: str) -> models.Index:
    """The index `visible_to(user)` scans (region_code LIKE 'prefix%'); every scoped table has one. Index
    names are at most 30 characters, so each model names its own."""
    return prefix_index("region_code", name)
