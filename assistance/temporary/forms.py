"""Forms of the 临时救助 flow: they parse and render; the rules live in services."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from core.registry.choices import DocumentType, Sex
from core.registry.forms import DateInput
from core.registry.models import Household
from core.validation import BoundedDateField

from ..forms import _StyledForm
from ..models import TempAssistanceCause, TempAssistanceKind
from ..tekun.forms import PersonField


class _TempApplicationFields(_StyledForm):
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


class TempCaseForm(_TempApplicationFields):
    person = PersonField(label="救助对象", queryset=None, empty_label="请选择家庭成员")
    field_order = ("person",)

    def __init__(self, *args, household: Household, person=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = household.members.filter(death_date__isnull=True).order_by("pk")
        if person is not None:
            self.fields["person"].initial = person.pk


class TempNonresidentForm(_TempApplicationFields):
    """临时救助 of a person without a household in the district (急难发生地): who they are and where the
    emergency happened; the registry's service checks the ID number, the service the rest."""

    name = forms.CharField(label="姓名", max_length=50, required=False)
    id_type = forms.ChoiceField(label="证件类型", choices=DocumentType.choices, initial=DocumentType.RIC)
    id_number = forms.CharField(label="证件号码", max_length=32, required=False)
    birth_date = BoundedDateField(
        label="出生日期", widget=DateInput(), required=False, help_text="居民身份证可不填，按证件号码计算"
    )
    sex = forms.ChoiceField(label="性别", choices=[("", "按证件号码"), *Sex.choices], required=False)
    phone = forms.CharField(label="联系电话", max_length=20, required=False)
    hukou_place = forms.CharField(
        label="户籍地", max_length=100, required=False, help_text="省、市、县（区）及详细地址"
    )
    region = forms.ChoiceField(label="急难发生地所在社区（村）", required=False)
    emergency_address = forms.CharField(
        label="急难发生地详细地址", max_length=200, required=False, help_text="街路门牌、医院、车站等"
    )
    field_order = (
        "name",
        "id_type",
        "id_number",
        "birth_date",
        "sex",
        "phone",
        "hukou_place",
        "region",
        "emergency_address",
    )

    def __init__(self, *args, communities: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", "请选择"), *communities]
        self.fields["region"].error_messages["invalid_choice"] = "所选社区（村）不在您的管辖范围内"


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
