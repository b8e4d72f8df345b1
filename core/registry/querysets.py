"""The one place that decides what a user may see: records whose region code starts with the user's scope."""

from __future__ import annotations

from django.db import models


def user_scope_prefix(user) -> str | None:
    """The region-code prefix a user may see; "" means everything, None means nothing."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return ""
    region = getattr(user, "region", None)
    if region is None:
        return None
    return region.scope_prefix


def scope_range_q(user, field: str = "region_code") -> models.Q:
    """The user's scope as a range of codes (`'220150' <= code < '220151'`), to add beside `visible_to`'s
    LIKE: a range, unlike LIKE under a non-C collation, is served by a plain B-tree that starts with the
    code after another column — such as the payment lines' (run, region_code) index, so a district's lines
    of one run are read from it instead of every line of the run (issue 14). Digits only, so every
    collation orders the bounds alike; nothing when the prefix cannot be bounded (everything, nothing,
    or not digits)."""
    prefix = user_scope_prefix(user)
    if not prefix or not prefix.isdigit():
        return models.Q()
    upper = str(int(prefix) + 1).zfill(len(prefix))
    if len(upper) > len(prefix):
        return models.Q(**{f"{field}__gte": prefix})
    return models.Q(**{f"{field}__gte": prefix, f"{field}__lt": upper})


class ScopedQuerySet(models.QuerySet):
    scope_field = "region_code"

    def visible_to(self, user) -> ScopedQuerySet:
        prefix = user_scope_prefix(user)
        if prefix is None:
            return self.none()
        if prefix == "":
            return self
        return self.filter(**{f"{self.scope_field}__startswith": prefix})
