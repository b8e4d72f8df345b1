"""The roster (人员花名册) and the 缺岗 lists, declared on the list kit (core.lists): filters, sorting,
pagination and the Excel export of the current filter are the kit's; scope is the user's."""

from __future__ import annotations

import django_filters
from django.db.models import F
from django.utils import timezone

from core.lists import Col, RecordList, RegionFilterSet
from core.registry.choices import RegionLevel
from core.registry.masking import mask_phone
from core.registry.models import Region
from core.validation import BoundedDateField

from . import selectors
from .access import VIEW_PERMISSION
from .choices import Qualification, StaffRole
from .models import StaffPosition

PERIOD_CURRENT, PERIOD_ENDED, PERIOD_ALL = "current", "ended", "all"


class DateFilter(django_filters.DateFilter):
    field_class = BoundedDateField


class RosterFilterSet(RegionFilterSet):
    """花名册: role, qualification level, 现任/已离任/全部 (现任 unless asked), or the positions held on a day."""

    role = django_filters.ChoiceFilter(
        label="岗位", field_name="role", choices=StaffRole.choices, empty_label="全部岗位"
    )
    qualification = django_filters.ChoiceFilter(
        label="资格等级", field_name="qualification", choices=Qualification.choices, empty_label="全部等级"
    )
    period = django_filters.ChoiceFilter(
        label="在任情况",
        method="filter_period",
        choices=[(PERIOD_ENDED, "已离任"), (PERIOD_ALL, "全部（含已离任）")],
        empty_label="现任",
    )
    on = DateFilter(label="在任日期", method="filter_on")
    search_fields = ("member__name__contains", "cert_number__istartswith")

    def __init__(self, data=None, *args, **kwargs):
        # No query at all is the default view: today's positions (a bound, empty filter).
        super().__init__({} if data is None else data, *args, **kwargs)

    def filter_period(self, queryset, name, value):
        return queryset  # applied in filter_queryset, where its default (现任) is known

    def filter_on(self, queryset, name, value):
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        if data.get("on"):
            return queryset.filter(selectors.in_force_on(data["on"]))
        period = data.get("period") or PERIOD_CURRENT
        today = timezone.localdate()
        if period == PERIOD_CURRENT:
            return queryset.filter(selectors.in_force_on(today))
        if period == PERIOD_ENDED:
            return queryset.filter(valid_to__lt=today)
        return queryset


def _street(position) -> str:
    region = position.member.region
    if region.level == RegionLevel.COMMUNITY:
        return region.parent.name if region.parent else ""
    return region.name if region.level == RegionLevel.STREET else ""


def _community(position) -> str:
    region = position.member.region
    return region.name if region.level == RegionLevel.COMMUNITY else ""


ROSTER_COLUMNS = (
    Col("姓名", "member.name", sort="member__name", link=True),
    Col("性别", "member.get_sex_display", in_list=False),
    Col("岗位", "get_role_display", sort="role"),
    Col("资格等级", "get_qualification_display", sort="qualification"),
    Col("证书编号", "cert_number", sort="cert_number"),
    Col("发证日期", "cert_date", kind="date"),
    Col("街道/乡镇", _street, sort="region_code"),
    Col("社区/村", _community),
    Col("工作单位", "member.workplace_name"),
    Col("联系电话", lambda p: mask_phone(p.member.phone)),
    Col("任职日期", "valid_from", kind="date", sort="valid_from"),
    Col("离任日期", "valid_to", kind="date", sort="valid_to"),
    Col("离任/变动原因", "end_reason", in_list=False),
)


class RosterList(RecordList):
    """人员花名册: one row per position (a person holding two roles is listed under each)."""

    name = "roster"
    namespace = "staff"
    title = "人员花名册"
    heading = "队伍人员花名册"
    count_unit = "条"
    model = StaffPosition
    permission = VIEW_PERMISSION
    filterset = RosterFilterSet
    columns = ROSTER_COLUMNS
    select_related = ("member", "member__region", "member__region__parent")
    default_sort = "region_code"
    tiebreak = ("member__name", "id")
    search_placeholder = "姓名 / 证书编号"
    list_intro = "默认列出现任职务；选择“在任日期”可查看某一天的在任人员。"
    empty_text = "没有符合条件的人员"
    detail_url_name = "staff:member_detail"
    detail_field = "member_id"
    create_url_name = "staff:member_create"
    create_label = "新增人员"
    create_permission = "staff.add_staffmember"

    @classmethod
    def queryset(cls, user):
        # The list never shows the ID number: leave the encrypted column unread (and undecrypted).
        return super().queryset(user).defer("member__id_number")


class VacancyFilterSet(RegionFilterSet):
    search_fields = ("name__contains",)


class StreetVacancyFilterSet(VacancyFilterSet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters.pop("community")


def _parent_name(region) -> str:
    return region.parent.name if region.parent else ""


class VacantDirectorList(RecordList):
    """缺岗: communities/villages in scope without a 儿童主任 today."""

    name = "vacant_directors"
    namespace = "staff"
    title = "儿童主任缺岗"
    heading = "儿童主任缺岗社区（村）"
    count_unit = "个"
    model = Region
    permission = VIEW_PERMISSION
    filterset = VacancyFilterSet
    columns = (
        Col("街道/乡镇", _parent_name),
        Col("社区/村", "name", sort="name"),
        Col("区划代码", "code", sort="code"),
        Col("城乡", "get_area_type_display"),
    )
    select_related = ("parent",)
    default_sort = "code"
    tiebreak = ("id",)
    search_placeholder = "社区/村名称"
    list_intro = "截至今日没有在任儿童主任的社区（村）。每个社区（村）应设一名儿童主任。"
    empty_text = "辖区内每个社区（村）都有在任儿童主任"

    @classmethod
    def queryset(cls, user):
        today = timezone.localdate()
        return (
            selectors.communities_without_director(user, today)
            .annotate(region_code=F("code"))
            .select_related(*cls.select_related)
        )


class VacantSupervisorList(VacantDirectorList):
    """缺岗: streets/townships in scope without a 儿童督导员 today."""

    name = "vacant_supervisors"
    title = "儿童督导员缺岗"
    heading = "儿童督导员缺岗街道（乡镇）"
    filterset = StreetVacancyFilterSet
    columns = (
        Col("街道/乡镇", "name", sort="name"),
        Col("区划代码", "code", sort="code"),
        Col("城乡", "get_area_type_display"),
    )
    search_placeholder = "街道/乡镇名称"
    list_intro = "截至今日没有在任儿童督导员的街道（乡镇）。每个街道（乡镇）应设一名儿童督导员。"
    empty_text = "辖区内每个街道（乡镇）都有在任儿童督导员"

    @classmethod
    def queryset(cls, user):
        today = timezone.localdate()
        return (
            selectors.streets_without_supervisor(user, today)
            .annotate(region_code=F("code"))
            .select_related(*cls.select_related)
        )
