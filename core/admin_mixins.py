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


class IdNumberSearchMixin:
    """Admin search by a full ID number, through its keyed hash (the column itself is encrypted:
    core/registry/crypto.py). `id_number_paths` names the persons searched, "" for the model itself,
    "person__" for a related one."""

    id_number_paths: tuple[str, ...] = ("",)

    def get_search_results(self, request, queryset, search_term):
        from core.registry.crypto import id_number_q

        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            match = queryset.none()
            for path in self.id_number_paths:
                match = match | queryset.filter(id_number_q(term, path))
            results = results | match
        return results, may_have_duplicates
