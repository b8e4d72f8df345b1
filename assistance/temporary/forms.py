"""Forms of the 临时救助 flow: they parse and render; the rules live in services."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from core.registry.forms import DateInput
from core.registry.models import Household
from core.validation import BoundedDateField

from ..forms import _StyledForm
from ..models import TempAssistanceCause, TempAssistanceKind
from ..tekun.forms import PersonField


class TempCaseForm(_StyledForm):
    person = PersonField(label="救助对象", queryset=None, empty_label="请选择家庭成员")
    kind = forms.ChoiceField(
        label="救助类型", choices=[("", "请选择"), *TempAssistanceKind.choices], required=False
    )
    cause = forms.ChoiceField(
        label="困难原因", choices=[("", "请选择"), *TempAssistanceCause.choices], required=False
    )
    applied_on = BoundedDateField(label="申请日期", widget=DateInput(), initial=timezone.localdate)
    cause_detail = forms.CharField(
        label="困难情况说明", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    is_advance = forms.BooleanField(label="已先行救助（情况紧急，先救助后补办手续）", required=False)
    advance_given_on = BoundedDateField(label="先行救助日期", widget=DateInput(), required=False)
    advance_amount = forms.DecimalField(
        label="先行救助金额（元）", max_digits=12, decimal_places=2, required=False
    )

    def __init__(self, *args, household: Household, person=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = household.members.filter(death_date__isnull=True).order_by("pk")
        if person is not None:
            self.fields["person"].initial = person.pk


class TempProposalForm(_StyledForm):
    findings = forms.CharField(
        label="调查核实情况",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="困难发生经过、家庭收入和财产、已获其他救助情况等",
    )
    amount = forms.DecimalField(
        label="拟救助金额（元）",
        max_digits=12,
        decimal_places=2,
        required=False,
        help_text="按元填写，可精确到分",
    )
    standard_multiple = forms.DecimalField(
        label="或：按城市低保月标准的倍数计算",
        max_digits=6,
        decimal_places=2,
        required=False,
        help_text="未填写金额时，拟救助金额 = 倍数 × 城市低保月标准，精确到分；填写了金额的以金额为准",
    )

    def __init__(self, *args, limits=None, **kwargs):
        super().__init__(*args, **kwargs)
        if limits is not None:
            self.fields["amount"].help_text = f"按元填写，可精确到分。{limits.help_text}"


class TempAdvanceForm(_StyledForm):
    given_on = BoundedDateField(
        label="先行救助日期", widget=DateInput(), initial=timezone.localdate, required=False
    )
    amount = forms.DecimalField(label="先行救助金额（元）", max_digits=12, decimal_places=2, required=False)

    def add_error(self, field, error):
        # The service names its fields after the model (advance_given_on, advance_amount).
        field = {"advance_given_on": "given_on", "advance_amount": "amount"}.get(field, field)
        super().add_error(field, error)
