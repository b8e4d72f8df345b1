from django.contrib import admin

from .models import FacilityKind


@admin.register(FacilityKind)
class FacilityKindAdmin(admin.ModelAdmin):
    """The kinds are data: an administrator may rename or retire one (a bureau app adds its own by migration)."""

    list_display = ("name", "code", "section_code", "has_beds", "sort_order", "is_active")
    list_filter = ("section_code", "is_active")
    ordering = ("sort_order", "code")

    def has_delete_permission(self, request, obj=None):
        return False
