"""Scoped reads of core/accounts: which users and which access-log rows an administrator sees."""

from __future__ import annotations

from django.db.models import QuerySet

from core.registry.querysets import user_scope_prefix

from .models import AccessLog, User


def users_visible_to(user) -> QuerySet[User]:
    """The users an administrator may list and edit: those whose region is inside the administrator's
    scope; superusers only by a superuser."""
    prefix = user_scope_prefix(user)
    if prefix is None:
        return User.objects.none()
    if prefix == "":
        return User.objects.all()
    return User.objects.filter(region__code__startswith=prefix, is_superuser=False)


def access_logs_visible_to(user) -> QuerySet[AccessLog]:
    """The access-log rows of the viewer's scope: reveals of people and households of their region, and
    exports of their region's data (AccessLog.region_code)."""
    return AccessLog.objects.visible_to(user).select_related("user", "person", "household")
