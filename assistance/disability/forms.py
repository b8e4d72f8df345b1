"""Forms of the 残疾人两项补贴 flow: they parse and render; the rules live in services."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from core.benefits.forms import MonthField
from core.registry.choices import DisabilityCategory, DisabilityGrade
from core.registry.forms import BootstrapMixin, DateInput
from core.registry.models import Person
from core.registry.selectors import streets_and_communities

from ..models import DisabilitySubsidy
from .case_types import DisabilityStatus
from .services import CARE_GRADES

# The form offers the 1st generation too, so that an applicant holding one gets the clear refusal
# (换领) instead of a missing option.
CERT_GENERATION_CHOICES = [("", "请选择"), (1, "第一代"), (2, "第二代"), (3, "第三代")]


class _StyledForm(BootstrapMixin, forms.Form):
    def _style(self) -> None:
        super()._style()
        for f in self.fields.values():
            if isinstance(f.widget, forms.CheckboxSelectMultiple):
                f.widget.attrs["class"] = "form-check-input"


class DisabilityApplicationForm(_StyledForm):
    subsidies = forms.MultipleChoiceField(
        label="申请补贴",
        choices=DisabilitySubsidy.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="生活补贴：最低生活保障家庭中的残疾人；护理补贴：残疾等级一、二级且需长期照护",
    )
    cert_no = forms.CharField(label="残疾人证号", max_length=32)
    cert_generation = forms.TypedChoiceField(
        label="残疾人证版本",
        choices=CERT_GENERATION_CHOICES,
        coerce=int,
        help_text="须为第二代或第三代残疾人证",
    )
    disability_category = forms.ChoiceField(
        label="残疾类别", choices=[("", "请选择"), *DisabilityCategory.choices]
    )
    disability_grade = forms.TypedChoiceField(
        label="残疾等级", choices=[("", "请选择"), *DisabilityGrade.choices], coerce=int
    )
    long_term_care = forms.BooleanField(label="需长期照护（6个月以上）", required=False)
    applied_on = forms.DateField(label="申请日期", widget=DateInput(), initial=timezone.localdate)

    def __init__(self, *args, person: Person, **kwargs):
        initial = kwargs.setdefault("initial", {})
        # Pre-filled from the registry (the person's certificate) and, from the comparison page, the
        # subsidy the person is missing.
        initial.setdefault("cert_no", person.disability_cert_no)
        initial.setdefault("disability_category", person.disability_category)
        initial.setdefault("disability_grade", person.disability_grade)
        if "subsidies" not in initial:
            initial["subsidies"] = [DisabilitySubsidy.LIVING] + (
                [DisabilitySubsidy.CARE] if person.disability_grade in CARE_GRADES else []
            )
        super().__init__(*args, **kwargs)


class FederationCheckForm(_StyledForm):
    grade = forms.TypedChoiceField(
        label="残联核定残疾等级", choices=[("", "请选择"), *DisabilityGrade.choices], coerce=int
    )
    opinion = forms.CharField(label="残联审核意见", required=False, widget=forms.Textarea(attrs={"rows": 2}))


STATUS_FILTER_CHOICES = [("", "全部状态"), ("open", "办理中"), *DisabilityStatus.choices]


class DisabilityFilterForm(forms.Form):
    q = forms.CharField(label="查询", required=False)
    street = forms.ChoiceField(label="街道/乡镇", required=False)
    community = forms.ChoiceField(label="社区/村", required=False)
    subsidy = forms.ChoiceField(
        label="补贴类别", required=False, choices=[("", "全部补贴"), *DisabilitySubsidy.choices]
    )
    status = forms.ChoiceField(label="状态", required=False, choices=STATUS_FILTER_CHOICES)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        streets, communities = streets_and_communities(user)
        self.fields["street"].choices = [("", "全部街道"), *((r.code, r.name) for r in streets)]
        self.fields["community"].choices = [("", "全部社区"), *((r.code, r.name) for r in communities)]

    def params(self) -> dict:
        return dict(self.cleaned_data) if self.is_valid() else {}


class ComparisonForm(forms.Form):
    month = MonthField(label="比对月份", required=False)
