"""The 低保 lists: the FilterSet of the application 台账 (a case list on the case-flow kit) and the 低保保障对象
list (entitlements), a list-kit declaration (core.lists) with its filters and columns."""

from __future__ import annotations

import django_filters
from django import forms

from core.benefits.models import Entitlement
from core.lists import Col, RecordList, RegionFilterSet
from core.workflow.flows import FlowFilterSet

from . import selectors
from .models import AssistanceApplication


class DibaoFilterSet(FlowFilterSet):
    staff_relative = django_filters.BooleanFilter(
        label="仅看近亲属备案", widget=forms.CheckboxInput, method="filter_staff_relative"
    )
    search_fields = (
        "case__number__istartswith",
        "case__applicant_name__contains",
        "household__number__istartswith",
    )

    class Meta:
        model = AssistanceApplication
        fields = ["q", "street", "community", "status", "staff_relative"]

    def filter_staff_relative(self, queryset, name, value):
        return queryset.filter(staff_relative=True) if value else queryset


class DibaoEntitlementFilterSet(RegionFilterSet):
    """低保保障对象台账: the kit's search, street and community filters, and the entitlement's status."""

    status = django_filters.ChoiceFilter(
        label="状态", field_name="status", choices=Entitlement.Status.choices, empty_label="全部状态"
    )
    search_fields = (
        "case__number__istartswith",
        "household__head__name__contains",
        "household__number__istartswith",
    )


ENTITLEMENT_COLUMNS = (
    Col("户编号", "household.number", sort="household__number"),
    Col("户主", "household.head.name", sort="household__head__name"),
    Col("所属社区", "household.region.name", sort="region_code"),
    Col("城乡", "get_area_type_display"),
    Col("起始月份", "start_month", kind="month", sort="start_month"),
    Col("终止月份", lambda e: f"{e.end_month.year}年{e.end_month.month}月" if e.end_month else "长期"),
    Col("状态", "get_status_display"),
    Col("审批案件", "case.number", link=True),
)


class DibaoEntitlementList(RecordList):
    """低保保障家庭及审批案件: every 低保 entitlement in the user's scope (any status) with the case that
    approved it, a page of the 低保 flow. Not the 保障对象台账 (assistance/ledger: per category and status,
    with amounts): each page's name says what it lists."""

    name = "dibao_entitlements"
    namespace = "assistance"
    title = "保障对象"
    heading = "低保保障家庭及审批案件"
    count_unit = "户"
    model = Entitlement
    permission = "benefits.view_entitlement"
    section = "assistance"
    filterset = DibaoEntitlementFilterSet
    columns = ENTITLEMENT_COLUMNS
    default_sort = "region_code"
    tiebreak = ("-start_month", "id")
    search_placeholder = "户主姓名 / 户编号 / 案件编号"
    empty_text = "没有符合条件的保障对象"
    tabs_template = "assistance/dibao/_tabs.html"
    parents = (("低保申请", "assistance:dibao_list"),)
    detail_url_name = "assistance:dibao_detail"
    detail_field = "case_id"

    @classmethod
    def queryset(cls, user):
        return selectors.dibao_entitlements_visible_to(user)
