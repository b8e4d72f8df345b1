"""The list pages of the facilities register, declared on the list kit (core.lists): 设施台账, 逾期未整改隐患 and
未检查设施 — each with its filters and the Excel export of the current filter."""

from __future__ import annotations

import django_filters
from django.utils import timezone

from core.accounts.models import Section
from core.lists import Col, RecordList, RegionFilterSet

from . import selectors
from .choices import InspectionKind, OperatorType, RatingLevel, Severity
from .models import Facility, FacilityKind, Hazard


def _kind_choices():
    return [(k.code, k.name) for k in FacilityKind.objects.filter(is_active=True)]


def _section_choices():
    used = set(FacilityKind.objects.values_list("section_code", flat=True))
    return [(s.code, s.name) for s in Section.objects.filter(code__in=used)]


class FacilityFilterSet(RegionFilterSet):
    kind = django_filters.ChoiceFilter(label="设施类别", field_name="kind__code", empty_label="全部类别")
    section = django_filters.ChoiceFilter(
        label="业务科室", field_name="kind__section_code", empty_label="全部科室"
    )
    operator_type = django_filters.ChoiceFilter(
        label="运营性质", choices=OperatorType.choices, empty_label="全部"
    )
    rating_level = django_filters.ChoiceFilter(
        label="等级", choices=RatingLevel.choices, empty_label="全部等级"
    )
    is_active = django_filters.ChoiceFilter(
        label="状态", choices=[("1", "在用"), ("0", "已停用")], empty_label="全部", method="filter_active"
    )
    search_fields = ("name__contains", "uscc__istartswith")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["kind"].extra["choices"] = _kind_choices()
        self.filters["section"].extra["choices"] = _section_choices()

    def filter_active(self, queryset, name, value):
        return queryset.filter(is_active=value == "1")


def _beds(facility: Facility):
    return facility.beds_total if facility.kind.has_beds else None


FACILITY_COLUMNS = (
    Col("设施名称", "name", sort="name", link=True),
    Col("类别", "kind.name", sort="kind__sort_order"),
    Col("所属街道/社区", "region.name", sort="region_code"),
    Col("地址", "address", in_list=False),
    Col("运营性质", "get_operator_type_display", sort="operator_type"),
    Col("运营单位", "operator_name"),
    Col("统一社会信用代码", "uscc"),
    Col("服务容量", "capacity", sort="capacity"),
    Col("床位", _beds),
    Col("建筑面积（㎡）", "floor_area", in_list=False),
    Col("等级", "get_rating_level_display", sort="rating_level"),
    Col("等级有效期至", "rating_valid_until", kind="date", in_list=False),
    Col("在用", "is_active", kind="bool"),
)


class FacilityList(RecordList):
    """设施台账: every facility of every kind in the user's scope."""

    name = "facility"
    namespace = "facilities"
    title = "服务设施"
    heading = "服务设施台账"
    count_unit = "处"
    model = Facility
    permission = "facilities.view_facility"
    filterset = FacilityFilterSet
    columns = FACILITY_COLUMNS
    select_related = ("kind", "region")
    default_sort = "region_code"
    tiebreak = ("name", "pk")
    search_placeholder = "设施名称 / 统一社会信用代码"
    empty_text = "没有符合条件的设施"
    detail_url_name = "facilities:facility_detail"
    create_url_name = "facilities:facility_create"
    create_label = "登记设施"
    create_permission = "facilities.add_facility"


class HazardFilterSet(RegionFilterSet):
    severity = django_filters.ChoiceFilter(label="隐患等级", choices=Severity.choices, empty_label="全部等级")
    kind = django_filters.ChoiceFilter(
        label="设施类别", field_name="inspection__facility__kind__code", empty_label="全部类别"
    )
    section = django_filters.ChoiceFilter(
        label="业务科室", field_name="inspection__facility__kind__section_code", empty_label="全部科室"
    )
    search_fields = ("inspection__facility__name__contains", "responsible_person__contains")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["kind"].extra["choices"] = _kind_choices()
        self.filters["section"].extra["choices"] = _section_choices()


def _days_overdue(hazard: Hazard) -> int:
    return hazard.days_overdue(timezone.localdate())


class OverdueHazardList(RecordList):
    """逾期未整改隐患: not rectified, overdue from the day after the deadline."""

    name = "hazard_overdue"
    namespace = "facilities"
    title = "逾期未整改隐患"
    heading = "逾期未整改隐患"
    count_unit = "项"
    model = Hazard
    permission = "facilities.view_hazard"
    filterset = HazardFilterSet
    columns = (
        Col("设施", "inspection.facility.name", sort="inspection__facility__name", link=True),
        Col("类别", "inspection.facility.kind.name"),
        Col("所属街道/社区", "inspection.facility.region.name", sort="region_code"),
        Col("检查日期", "inspection.inspected_on", kind="date", sort="inspection__inspected_on"),
        Col("隐患描述", "description"),
        Col("隐患等级", "get_severity_display", sort="severity"),
        Col("整改责任人", "responsible_person"),
        Col("整改期限", "deadline", kind="date", sort="deadline"),
        Col("逾期天数", _days_overdue),
    )
    default_sort = "deadline"
    tiebreak = ("pk",)
    search_placeholder = "设施名称 / 责任人"
    list_intro = "整改期限已过（期限次日起算逾期）且尚未登记整改完成的隐患。"
    empty_text = "没有逾期未整改的隐患"
    parents = (("服务设施", "facilities:facility_list"),)

    @classmethod
    def queryset(cls, user):
        return selectors.overdue_hazards(user, timezone.localdate())

    @classmethod
    def detail_url(cls, obj) -> str:
        return FacilityList.detail_url(obj.inspection.facility) + f"#hazard-{obj.pk}"


class UninspectedFilterSet(FacilityFilterSet):
    """未检查设施: the period (本月 by default, or 本季度) and the kind of inspection that counts."""

    period = django_filters.ChoiceFilter(
        label="期间", choices=list(selectors.PERIODS.items()), empty_label=None, method="keep"
    )
    inspection_kind = django_filters.ChoiceFilter(
        label="检查类型", choices=InspectionKind.choices, empty_label="任一检查", method="keep"
    )

    def __init__(self, data=None, *args, **kwargs):
        # The page opens on this month: an unfiltered request is the default filter, not everything.
        super().__init__({} if data is None else data, *args, **kwargs)
        del self.filters["is_active"]

    def keep(self, queryset, name, value):
        return queryset  # applied in filter_queryset, where the default period is known

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        period = self.form.cleaned_data.get("period") or "month"
        kind = self.form.cleaned_data.get("inspection_kind") or ""
        return selectors.not_inspected(queryset, timezone.localdate(), period, kind)


class UninspectedList(RecordList):
    """Facilities in use without an inspection this month (or quarter) up to today."""

    name = "uninspected"
    namespace = "facilities"
    title = "未检查设施"
    heading = "未检查设施"
    count_unit = "处"
    model = Facility
    permission = "facilities.view_inspection"
    filterset = UninspectedFilterSet
    columns = (
        *FACILITY_COLUMNS[:4],
        Col("运营单位", "operator_name"),
        Col("最近检查日期", "last_inspected_on", kind="date"),
    )
    select_related = ("kind", "region")
    default_sort = "region_code"
    tiebreak = ("name", "pk")
    search_placeholder = "设施名称 / 统一社会信用代码"
    list_intro = "在用设施中，本月（或本季度）1日至今没有检查记录的设施。"
    empty_text = "所选期间内设施均已检查"
    detail_url_name = "facilities:facility_detail"
    parents = (("服务设施", "facilities:facility_list"),)

    @classmethod
    def prepare(cls, rows):
        return selectors.with_last_inspection(rows)
