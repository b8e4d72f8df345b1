"""The 探访关爱 lists, each a RecordList declaration (core/lists.py): scope, filters, sorting, pagination and
the Excel export of the current filter are the kit's."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

from core.lists import Col, RecordList, RegionFilterSet
from core.validation import BoundedDateField

from .models import Enrollment, Visit, VisitWay
from .programmes import RiskLevel, month_bounds, programme_choices, programme_title


class BoundedDateFilter(django_filters.DateFilter):
    field_class = BoundedDateField


class _ProgrammeChoices:
    """The programme filter lists the programmes registered when the page is drawn."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["programme"].extra["choices"] = programme_choices()


class ProgrammeFilterSet(_ProgrammeChoices, RegionFilterSet):
    programme = django_filters.ChoiceFilter(label="探访项目", choices=[], empty_label="全部项目")
    search_fields = ("person__name",)


EnrollmentFilterSet = ProgrammeFilterSet


class VisitFilterSet(_ProgrammeChoices, RegionFilterSet):
    programme = django_filters.ChoiceFilter(
        label="探访项目", choices=[], empty_label="全部项目", method="filter_programme"
    )
    way = django_filters.ChoiceFilter(label="探访方式", choices=VisitWay.choices, empty_label="全部方式")
    risk_level = django_filters.ChoiceFilter(
        label="风险等级", choices=RiskLevel.choices, empty_label="全部等级"
    )
    visited_from = BoundedDateFilter(label="探访日期自", field_name="visited_on", lookup_expr="gte")
    visited_to = BoundedDateFilter(label="探访日期至", field_name="visited_on", lookup_expr="lte")
    search_fields = ("person__name",)

    def filter_programme(self, queryset, name, value):
        return queryset.filter(links__programme=value).distinct() if value else queryset


class FollowUpFilterSet(VisitFilterSet):
    overdue = django_filters.BooleanFilter(
        label="仅看逾期跟进", method="filter_overdue", widget=forms.CheckboxInput
    )

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(follow_up_due__lt=timezone.localdate()) if value else queryset


def _programme(obj) -> str:
    return programme_title(obj.programme)


def _visitors(obj) -> str:
    return "、".join(v.display_name or v.username for v in obj.visitors.all())


def _way_risk(obj) -> str:
    return f"{obj.get_way_display()} · {obj.get_risk_level_display()}"


ENROLLMENT_COLUMNS = [
    Col("姓名", "person.name", sort="person__name", link=True),
    Col("探访项目", _programme, sort="programme"),
    Col("社区", "region_name"),
    Col("纳入日期", "joined_on", kind="date", sort="joined_on"),
    Col("最近探访", "last_visited_on", kind="date", sort="last_visited_on"),
    Col("最近风险", "get_last_risk_level_display"),
    Col("应探访日期", "next_due_on", kind="date", sort="next_due_on"),
]


class _EnrollmentList(RecordList):
    namespace = "visits"
    model = Enrollment
    permission = "visits.view_enrollment"
    filterset = EnrollmentFilterSet
    columns = ENROLLMENT_COLUMNS
    select_related = ("person",)
    default_sort = "next_due_on"
    tiebreak = ("pk",)
    count_unit = "人次"
    search_placeholder = "姓名"
    # One tap from the list to the visit entry page of the person.
    detail_url_name = "visits:visit_create"
    detail_field = "person_id"
    parents = (("探访记录", "visits:visits_list"),)

    @classmethod
    def open_rows(cls, user):
        return (
            super()
            .queryset(user)
            .filter(left_on__isnull=True, person__death_date__isnull=True)
            .annotate(region_name=_region_name())
        )


def _region_name():
    from django.db.models import OuterRef, Subquery

    from core.registry.models import Region

    return Subquery(Region.objects.filter(code=OuterRef("region_code")).values("name")[:1])


class DueThisMonthList(_EnrollmentList):
    name = "due"
    title = "本月应探访"
    heading = "本月应探访对象"
    list_intro = "下次应探访日期在本月内的在册对象（逾期未探访的另见“逾期未探访”）。点姓名登记探访。"
    empty_text = "本月没有应探访的对象"

    @classmethod
    def queryset(cls, user):
        first, last = month_bounds(timezone.localdate())
        return cls.open_rows(user).filter(next_due_on__range=(first, last))


class OverdueList(_EnrollmentList):
    name = "overdue"
    title = "逾期未探访"
    heading = "逾期未探访对象"
    list_intro = "应探访日期已过（早于今天）且此后未再探访的在册对象。点姓名登记探访。"
    empty_text = "没有逾期未探访的对象"

    @classmethod
    def queryset(cls, user):
        return cls.open_rows(user).filter(next_due_on__lt=timezone.localdate())


class EnrollmentList(_EnrollmentList):
    name = "enrollments"
    title = "探访对象"
    heading = "在册探访对象"
    list_intro = "各探访项目的在册对象（一人可参加多个项目）。点姓名登记探访。"

    @classmethod
    def queryset(cls, user):
        return cls.open_rows(user)


VISIT_COLUMNS = [
    Col("探访日期", "visited_on", kind="date", sort="visited_on", link=True),
    Col("姓名", "person.name", sort="person__name"),
    Col("方式/风险", _way_risk, in_export=False),
    Col("探访方式", "get_way_display", in_list=False),
    Col("风险等级", "get_risk_level_display", sort="risk_level", in_list=False),
    Col("发现的需求", "needs_labels"),
    Col("探访人员", _visitors),
    Col("跟进事项", "follow_up"),
    Col("跟进期限", "follow_up_due", kind="date", sort="follow_up_due"),
    Col("跟进完成", "follow_up_done_on", kind="date"),
    Col("探访情况", "findings", in_list=False),
]


class VisitList(RecordList):
    name = "visits"
    namespace = "visits"
    title = "探访记录"
    heading = "探访记录"
    model = Visit
    permission = "visits.view_visit"
    filterset = VisitFilterSet
    columns = VISIT_COLUMNS
    select_related = ("person",)
    default_sort = "-visited_on"
    count_unit = "次"
    search_placeholder = "姓名"
    detail_url_name = "visits:visit_detail"

    @classmethod
    def queryset(cls, user):
        return super().queryset(user).prefetch_related("visitors")


class FollowUpList(VisitList):
    name = "followups"
    title = "待办跟进"
    heading = "未办结的跟进事项"
    filterset = FollowUpFilterSet
    default_sort = "follow_up_due"
    list_intro = "探访中发现、尚未办结的跟进事项；勾选“仅看逾期跟进”只看跟进期限已过（早于今天）的。"
    empty_text = "没有未办结的跟进事项"
    parents = (("探访记录", "visits:visits_list"),)

    @classmethod
    def queryset(cls, user):
        return super().queryset(user).filter(~Q(follow_up=""), follow_up_done_on__isnull=True)
