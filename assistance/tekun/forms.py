"""Forms of the 特困 flow: they parse and render; the rules live in services."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from core.benefits.forms import MonthField
from core.registry.forms import DateInput
from core.registry.models import Household
from core.validation import BoundedDateField

from .. import rules
from ..forms import _StyledForm
from ..models import SupportMode, TekunTerminationReason

YES_NO = [("", "请选择"), ("1", "是"), ("0", "否")]
CAN_DO = [("", "请选择"), ("1", "能自主完成"), ("0", "不能自主完成")]
SELF_CARE_FIELD_PREFIX = "care_"


class FacilityField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name}（{obj.kind.name}）"


class PersonField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        relation = obj.get_relation_display() if obj.relation else ""
        return f"{obj.name}（{relation}，{obj.birth_date:%Y-%m-%d}生）" if relation else obj.name


class TekunApplicationForm(_StyledForm):
    person = PersonField(label="申请人", queryset=None, empty_label="请选择家庭成员")
    applied_on = BoundedDateField(label="申请日期", widget=DateInput(), initial=timezone.localdate)
    promise_signed = forms.BooleanField(label="申请人已签署告知承诺书", required=False)
    authorisation_signed = forms.BooleanField(label="申请人已签署家庭经济状况核对授权书", required=False)
    is_orphan = forms.BooleanField(
        label="申请人为未满18周岁儿童，且父母双方均已死亡或下落不明（孤儿）",
        required=False,
        help_text="孤儿纳入儿童福利保障（孤儿基本生活保障），不按特困人员办理",
    )

    def __init__(self, *args, household: Household, person=None, **kwargs):
        super().__init__(*args, **kwargs)
        living = household.members.filter(death_date__isnull=True).order_by("pk")
        self.fields["person"].queryset = living
        if person is not None:
            self.fields["person"].initial = person.pk


def _yes_no(value: str) -> bool | None:
    return {"1": True, "0": False}.get(value)


class SelfCareItemsMixin:
    """The six-item self-care assessment (rules.SELF_CARE_ITEMS) as one choice field each, read back as the
    {item: can do} dict the services take; the service's one error on the items shows beside the first.
    A form calls `add_self_care_fields()` in its `__init__`, before `_style()`."""

    self_care_label_prefix = ""

    def add_self_care_fields(self) -> None:
        for key, label in rules.SELF_CARE_ITEMS.items():
            self.fields[f"{SELF_CARE_FIELD_PREFIX}{key}"] = forms.ChoiceField(
                label=f"{self.self_care_label_prefix}{label}", choices=CAN_DO, required=False
            )

    def self_care_items(self) -> dict[str, bool]:
        items = {}
        for key in rules.SELF_CARE_ITEMS:
            value = _yes_no(self.cleaned_data.get(f"{SELF_CARE_FIELD_PREFIX}{key}", ""))
            if value is not None:
                items[key] = value
        return items

    def add_error(self, field, error):
        if field == "self_care_items":
            field = f"{SELF_CARE_FIELD_PREFIX}eat"
        super().add_error(field, error)


class TekunInvestigationForm(SelfCareItemsMixin, _StyledForm):
    self_care_label_prefix = "生活自理能力："

    investigated_on = BoundedDateField(label="调查日期", widget=DateInput(), initial=timezone.localdate)
    unable_to_work_reason = forms.CharField(
        label="无劳动能力情形",
        max_length=100,
        required=False,
        help_text="年满60周岁；未满16周岁；智力、精神残疾一至三级；肢体残疾一、二级；视力残疾一级等",
    )
    no_income_source = forms.ChoiceField(
        label="无生活来源（收入低于当地低保标准且财产符合规定）", choices=YES_NO, required=False
    )
    no_supporter = forms.ChoiceField(
        label="无法定赡养、抚养、扶养义务人，或其无履行义务能力", choices=YES_NO, required=False
    )
    support_mode = forms.ChoiceField(
        label="供养方式", choices=[("", "请选择"), *SupportMode.choices], required=False
    )
    facility = FacilityField(
        label="供养机构",
        queryset=None,
        required=False,
        empty_label="请选择（集中供养时）",
        help_text="从服务设施登记中选择特困供养服务设施（敬老院）、养老机构或儿童福利机构；基本生活费拨付该机构",
    )
    findings = forms.CharField(
        label="调查情况",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="收入、财产、法定义务人及其履行能力、居住和照料状况等",
    )

    def __init__(self, *args, region_code: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        from .services import tekun_facilities

        self.fields["facility"].queryset = tekun_facilities(region_code).select_related("kind")
        self.add_self_care_fields()
        self._style()

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "investigated_on": data.get("investigated_on"),
            "unable_to_work_reason": data.get("unable_to_work_reason", ""),
            "no_income_source": _yes_no(data.get("no_income_source", "")),
            "no_supporter": _yes_no(data.get("no_supporter", "")),
            "self_care_items": self.self_care_items(),
            "support_mode": data.get("support_mode", ""),
            "facility": data.get("facility"),
            "findings": data.get("findings", ""),
        }


# -- after approval (assistance/tekun/lifecycle.py) ------------------------------------------------------


class ReassessmentOpenForm(_StyledForm):
    reported_on = BoundedDateField(label="报告日期", widget=DateInput(), initial=timezone.localdate)
    reason = forms.CharField(
        label="自理能力变化情况",
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="如：因中风卧床，不能自主上下床和如厕（社区报告）",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class ReassessmentForm(SelfCareItemsMixin, _StyledForm):
    assessed_on = BoundedDateField(label="评估日期", widget=DateInput(), initial=timezone.localdate)
    finding = forms.CharField(
        label="评估情况", max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_self_care_fields()
        self._style()

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "assessed_on": data.get("assessed_on"),
            "self_care_items": self.self_care_items(),
            "finding": data.get("finding", ""),
        }


class ReviewRecordForm(_StyledForm):
    reviewed_on = BoundedDateField(label="复核日期", widget=DateInput(), initial=timezone.localdate)
    finding = forms.CharField(
        label="复核情况",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="收入、财产、劳动能力、法定义务人及生活照料情况；仍符合条件的继续供养",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class RejudgementForm(_StyledForm):
    in_school = forms.ChoiceField(label="是否在校就读", choices=YES_NO, required=False)
    school_proof = forms.CharField(
        label="在校就读证明", max_length=200, required=False, help_text="学校名称、年级及证明出具日期"
    )
    school_until = BoundedDateField(label="继续供养至", widget=DateInput(), required=False)
    finding = forms.CharField(
        label="认定情况", max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "in_school": bool(_yes_no(data.get("in_school", ""))),
            "school_proof": data.get("school_proof", ""),
            "school_until": data.get("school_until"),
            "finding": data.get("finding", ""),
        }


class TerminationForm(_StyledForm):
    reason = forms.ChoiceField(
        label="终止原因", choices=[("", "请选择"), *TekunTerminationReason.choices], required=False
    )
    details = forms.CharField(
        label="终止理由（事实和依据）",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="写明核实的事实，将印在终止决定书上",
    )
    effective_month = MonthField(label="终止月份（自该月起停止发放）", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class CareAgreementForm(_StyledForm):
    carer_name = forms.CharField(label="照料人姓名", max_length=50, required=False)
    carer_relation = forms.CharField(
        label="与特困人员关系", max_length=30, required=False, help_text="如：侄子、邻居、护理员"
    )
    carer_phone = forms.CharField(label="照料人电话", max_length=20, required=False)
    services = forms.CharField(
        label="照料服务内容",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="如：日常起居照料、代购生活用品、陪同就医、打扫卫生",
    )
    frequency = forms.CharField(label="服务频次", max_length=50, required=False, help_text="如：每日上门一次")
    signed_on = BoundedDateField(label="签订日期", widget=DateInput(), initial=timezone.localdate)
    valid_until = BoundedDateField(label="有效期至", widget=DateInput(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()
