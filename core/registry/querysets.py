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


class ScopedQuerySet(models.QuerySet):
    scope_field = "region_code"

    def visible_to(self, user) -> ScopedQuerySet:
        prefix = user_scope_prefix(user)
        if prefix is None:
            return self.none()
        if prefix == "":
            return self
        return self.filter(**{f"{self.scope_field}__startswith": prefix})
