"""Admin: standards and parameters are edited here; entitlements are read-mostly; runs and lines read-only
(they change only through recalculation and locking)."""

from django.contrib import admin

from core.admin_mixins import IdNumberSearchMixin, ReadOnlyAdminMixin

from .models import BenefitType, Entitlement, Parameter, PaymentLine, PaymentRun, Standard


@admin.register(BenefitType)
class BenefitTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "section", "is_monthly", "rounding", "sort_order"]
    list_filter = ["section", "is_monthly", "rounding"]
    search_fields = ["code", "name"]
    list_select_related = ["section"]


@admin.register(Standard)
class StandardAdmin(admin.ModelAdmin):
    list_display = [
        "benefit_type",
        "area_type",
        "tier",
        "amount",
        "unit",
        "effective_from",
        "effective_to",
        "source",
    ]
    list_filter = ["benefit_type", "area_type", "unit", "effective_from"]
    search_fields = ["tier", "source", "benefit_type__name"]
    date_hierarchy = "effective_from"
    readonly_fields = ["created_by", "created_at"]

    # A standard is a section's decision: its 科长 enters it on the 调整标准 page (core.benefits.standards),
    # which checks the section and ends the previous standard. The admin only shows them.
    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)


@admin.register(Parameter)
class ParameterAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "value", "effective_from", "effective_to", "source"]
    list_filter = ["key", "effective_from"]
    search_fields = ["key", "name", "source"]


@admin.register(Entitlement)
class EntitlementAdmin(IdNumberSearchMixin, admin.ModelAdmin):
    """Read-mostly: entitlements come from approved cases; only the end and status are corrected here."""

    list_display = [
        "id",
        "benefit_type",
        "person",
        "household",
        "region_code",
        "area_type",
        "start_month",
        "end_month",
        "status",
    ]
    list_filter = ["benefit_type", "status", "area_type", "start_month"]
    # and the full ID number of the person or the household's head (IdNumberSearchMixin)
    search_fields = ["=id", "region_code", "person__name", "=household__number"]
    id_number_paths = ("person__", "household__head__")
    list_select_related = ["benefit_type", "person", "household"]
    raw_id_fields = ["person", "household", "case"]
    readonly_fields = [
        "benefit_type",
        "person",
        "household",
        "case",
        "region_code",
        "area_type",
        "start_month",
        "params",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PaymentRun)
class PaymentRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "benefit_type",
        "month",
        "kind",
        "status",
        "line_count",
        "total_amount",
        "adjustment_total",
        "calculated_at",
        "locked_at",
    ]
    list_filter = ["benefit_type", "status", "kind", "month"]
    date_hierarchy = "month"


@admin.register(PaymentLine)
class PaymentLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["run", "entitlement", "household", "person", "line_type", "for_month", "amount", "change"]
    list_filter = ["run__benefit_type", "line_type", "change", "for_month"]
    search_fields = ["=household__number", "person__name", "=entitlement__id"]
    list_select_related = [
        "run",
        "run__benefit_type",
        "entitlement",
        "entitlement__benefit_type",
        "household",
        "person",
    ]
    raw_id_fields = ["run", "entitlement", "household", "person"]
