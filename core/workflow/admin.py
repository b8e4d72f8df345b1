from __future__ import annotations

from django.contrib import admin
from django.utils import timezone

from core.admin_mixins import ReadOnlyAdminMixin

from .calendar import missing_calendar_years
from .models import CalendarDay, Case, CaseSequence, PublicNotice, TransitionLog


class CalendarYearFilter(admin.SimpleListFilter):
    title = "年度"
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = CalendarDay.objects.dates("date", "year", order="DESC")
        return [(str(d.year), f"{d.year}年") for d in years]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(date__year=self.value())
        return queryset


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "weekday", "is_working_day", "note")
    list_editable = ("is_working_day", "note")
    list_filter = (CalendarYearFilter, "is_working_day")
    search_fields = ("note",)
    date_hierarchy = "date"
    list_per_page = 62
    ordering = ("date",)

    @admin.display(description="星期")
    def weekday(self, obj: CalendarDay) -> str:
        return "星期" + "一二三四五六日"[obj.date.weekday()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "missing_years": missing_calendar_years(timezone.localdate()),
        }
        return super().changelist_view(request, extra_context=extra_context)


class TransitionLogInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TransitionLog
    fields = ("at", "label", "from_status", "to_status", "actor", "comment")
    readonly_fields = fields
    extra = 0


@admin.register(Case)
class CaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Cases change only through the transition services; the admin shows them read-only."""

    list_display = (
        "number",
        "case_type",
        "applicant_name",
        "region",
        "status",
        "assignee_role",
        "due_date",
        "is_open",
    )
    list_filter = ("case_type", "is_open", "assignee_role")
    search_fields = ("number", "applicant_name")
    list_select_related = ("region",)
    date_hierarchy = "created_at"
    inlines = [TransitionLogInline]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)


@admin.register(TransitionLog)
class TransitionLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "case", "label", "kind", "from_status", "to_status", "actor")
    list_filter = ("kind", "transition")
    search_fields = ("case__number", "comment")
    list_select_related = ("case", "actor")
    date_hierarchy = "at"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        # Same scope as the cases themselves.
        return qs.filter(case__in=Case.objects.visible_to(request.user).values("pk"))


@admin.register(PublicNotice)
class PublicNoticeAdmin(admin.ModelAdmin):
    list_display = ("case", "start_date", "end_date", "place", "status", "closed_at")
    list_filter = ("status",)
    search_fields = ("case__number", "case__applicant_name")
    list_select_related = ("case",)
    readonly_fields = (
        "case",
        "region_code",
        "start_date",
        "end_date",
        "status",
        "created_by",
        "closed_at",
        "closed_by",
    )
    fields = (
        "case",
        "region_code",
        "start_date",
        "end_date",
        "place",
        "status",
        "objection",
        "created_by",
        "closed_at",
        "closed_by",
    )

    def has_add_permission(self, request):
        return False  # opened from the case page (notice_open), which computes the end date

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)


@admin.register(CaseSequence)
class CaseSequenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("prefix", "year", "last_value")
