"""Admin: the system administrator manages regions here; the rest is for inspection (edits go through
the application's pages and services, so history and life events are never skipped)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from core.admin_mixins import IdNumberSearchMixin, ReadOnlyAdminMixin

from . import events
from .masking import mask_id_number
from .models import (
    Assessment,
    AssetRecord,
    Attachment,
    Household,
    IncomeRecord,
    LifeEvent,
    Membership,
    Person,
    PersonFact,
    Region,
)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "area_type", "parent", "complaint_phone", "is_active", "is_demo"]
    list_filter = ["level", "area_type", "is_active", "is_demo"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    ordering = ["code"]
    list_per_page = 100


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "household"
    extra = 0
    fields = ["person", "relation", "joined_on", "left_on", "reason"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "成员变动记录"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Household)
class HouseholdAdmin(SimpleHistoryAdmin):
    list_display = ["number", "head", "region", "area_type", "is_active", "created_at"]
    list_filter = ["area_type", "is_active"]
    search_fields = ["number", "head__name", "address"]
    list_select_related = ["head", "region"]
    raw_id_fields = ["region", "head", "created_by"]
    readonly_fields = ["region_code", "created_by", "created_at", "updated_at"]
    inlines = [MembershipInline]


@admin.register(Person)
class PersonAdmin(IdNumberSearchMixin, SimpleHistoryAdmin):
    list_display = ["name", "masked_id_number", "sex", "birth_date", "household", "relation", "death_date"]
    list_filter = ["sex", "marital_status", "disability_category", "self_care"]
    search_fields = ["name", "household__number"]  # and the full ID number (IdNumberSearchMixin)
    list_select_related = ["household"]
    raw_id_fields = ["household"]
    readonly_fields = ["region_code", "created_at", "updated_at"]

    @admin.display(description="证件号码")
    def masked_id_number(self, obj):
        return mask_id_number(obj.id_number)


class HouseholdChangeAdmin(SimpleHistoryAdmin):
    """An income or asset record saved here is a household change like one entered on the household page:
    the bureaus paying an amount fixed by decision hear of it (core.benefits.checks)."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        verb = "修改" if change else "登记"
        events.publish_household_change(
            [obj.household_id], f"{verb}{obj._meta.verbose_name}（系统管理）：{obj}", request.user
        )


@admin.register(IncomeRecord)
class IncomeRecordAdmin(HouseholdChangeAdmin):
    list_display = [
        "household",
        "person",
        "kind",
        "monthly_amount",
        "period_start",
        "period_end",
        "recorded_by",
    ]
    list_filter = ["kind"]
    search_fields = ["household__number", "person__name"]
    list_select_related = ["household", "person", "recorded_by"]
    raw_id_fields = ["household", "person", "recorded_by"]


@admin.register(AssetRecord)
class AssetRecordAdmin(HouseholdChangeAdmin):
    list_display = ["household", "person", "kind", "value", "recorded_on", "disposed_on", "recorded_by"]
    list_filter = ["kind"]
    search_fields = ["household__number", "person__name"]
    list_select_related = ["household", "person", "recorded_by"]
    raw_id_fields = ["household", "person", "recorded_by"]


@admin.register(LifeEvent)
class LifeEventAdmin(IdNumberSearchMixin, admin.ModelAdmin):
    list_display = ["person", "kind", "event_date", "recorded_by", "recorded_at"]
    list_filter = ["kind"]
    search_fields = ["person__name"]  # and the full ID number (IdNumberSearchMixin)
    id_number_paths = ("person__",)
    list_select_related = ["person", "recorded_by"]
    raw_id_fields = ["person", "recorded_by"]
    date_hierarchy = "event_date"


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "original_name",
        "doc_type",
        "content_type",
        "object_id",
        "size",
        "uploaded_by",
        "uploaded_at",
        "is_removed",
    ]
    list_filter = ["doc_type", "is_removed"]
    search_fields = ["original_name", "sha256"]
    list_select_related = ["content_type", "uploaded_by"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(PersonFact)
class PersonFactAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Dated facts change only through core.registry.facts (a new value closes the open one)."""

    list_display = ["kind", "value", "person", "household", "valid_from", "valid_to", "source", "recorded_by"]
    list_filter = ["kind", "source"]
    search_fields = ["person__name", "household__number"]
    list_select_related = ["person", "household", "recorded_by"]
    date_hierarchy = "valid_from"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["person", "kind", "level", "assessed_on", "valid_until", "assessor", "assessor_org"]
    list_filter = ["kind", "level"]
    search_fields = ["person__name", "assessor", "assessor_org"]
    list_select_related = ["person"]
    date_hierarchy = "assessed_on"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]
