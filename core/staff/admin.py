"""The roster in the admin is read-only: every change goes through the services (dated, checked)."""

from django.contrib import admin

from core.admin_mixins import ReadOnlyAdminMixin

from .models import StaffMember, StaffPosition


class PositionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = StaffPosition
    fields = ("role", "qualification", "cert_number", "cert_date", "valid_from", "valid_to", "end_reason")
    readonly_fields = fields
    extra = 0


@admin.register(StaffMember)
class StaffMemberAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "region", "workplace_name", "created_at")
    search_fields = ("name",)
    fields = ("name", "sex", "region", "workplace_name", "note", "created_by", "created_at")
    readonly_fields = fields
    inlines = [PositionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user).select_related("region")
