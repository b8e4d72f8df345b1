"""FilterSets of the 低保 lists: the application 台账 (a case list on the case-flow kit) and the 低保保障对象
list (entitlements), with the columns of the latter (list and Excel export)."""

from __future__ import annotations

import django_filters
from django import forms

from core.benefits.models import Entitlement
from core.workflow.flows import Col, FlowFilterSet

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


class DibaoEntitlementFilterSet(FlowFilterSet):
    """低保保障对象台账: the kit's search, street and community filters, and the entitlement's status."""

    status = django_filters.ChoiceFilter(
        label="状态", field_name="status", choices=Entitlement.Status.choices, empty_label="全部状态"
    )
    search_fields = (
        "case__number__istartswith",
        "household__head__name__contains",
        "household__number__istartswith",
    )

    class Meta:
        model = Entitlement
        fields = ["q", "street", "community", "status"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["status"].extra["choices"] = Entitlement.Status.choices


ENTITLEMENT_COLUMNS = (
    Col("户编号", "household.number"),
    Col("户主", "household.head.name"),
    Col("所属社区", "household.region.name"),
    Col("城乡", "get_area_type_display"),
    Col("起始月份", "start_month", kind="month"),
    Col("终止月份", lambda e: f"{e.end_month.year}年{e.end_month.month}月" if e.end_month else "长期"),
    Col("状态", "get_status_display"),
    Col("审批案件", "case.number", link=True),
)
