"""Read-only admin of the 低保 applications: every change goes through the services (guards, audit)."""

from __future__ import annotations

from django.contrib import admin

from .models import AssistanceApplication, Decision, Investigation


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class InvestigationInline(admin.TabularInline):
    model = Investigation
    fields = ("visit_date", "economic_check_result", "district_visit", "recorded_by", "recorded_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AssistanceApplication)
class AssistanceApplicationAdmin(_ReadOnlyAdmin):
    list_display = ("case", "household", "region_code", "applied_on", "staff_relative", "is_open")
    list_filter = ("is_open", "staff_relative", "case_type")
    search_fields = ("case__number", "household__number", "case__applicant_name")
    list_select_related = ("case", "household")
    inlines = [InvestigationInline]


@admin.register(Decision)
class DecisionAdmin(_ReadOnlyAdmin):
    list_display = ("application", "approved", "monthly_amount", "start_month", "decided_by", "decided_at")
    list_filter = ("approved",)
    search_fields = ("application__case__number",)
    list_select_related = ("application__case", "decided_by")
