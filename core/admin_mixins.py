"""Admin behaviour shared by the core apps.

Audit rows, payment runs, cases and uploaded files change only through the application's services
(which record history, audit events and the run's totals); the admin may show them but never add, edit
or delete them, or those records would be skipped."""

from __future__ import annotations


class ReadOnlyAdminMixin:
    """Put first in the bases of a ModelAdmin (`class XAdmin(ReadOnlyAdminMixin, admin.ModelAdmin)`):
    the admin lists and shows the rows, with no add, change or delete."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
