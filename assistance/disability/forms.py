"""Forms of the 残疾人两项补贴 flow: they parse and render; the rules live in services."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from core.benefits.forms import MonthField
from core.registry.choices import DisabilityCategory, DisabilityGrade
from core.registry.forms import DateInput
from core.registry.models import Household, Person
from core.validation import BoundedDateField

from ..forms import _StyledForm
from ..models import DisabilitySubsidy
from .services import CARE_GRADES

# The form offers the 1st generation too, so that an applicant holding one gets the clear refusal
# (换领) instead of a missing option.
CERT_GENERATION_CHOICES = [("", "请选择"), (1, "第一代"), (2, "第二代"), (3, "第三代")]
FROM_REGISTRY = "留空则取人员档案中登记的残疾人证信息"


class MemberField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Person) -> str:
        if obj.disability_grade:
            return (
                f"{obj.name}（{obj.get_disability_category_display()}{obj.get_disability_grade_display()}）"
            )
        return f"{obj.name}（未登记残疾信息）"


class DisabilityApplicationForm(_StyledForm):
    person = MemberField(label="申请人", queryset=None, empty_label="请选择家庭成员")
    subsidies = forms.MultipleChoiceField(
        label="申请补贴",
        choices=DisabilitySubsidy.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="生活补贴：最低生活保障家庭中的残疾人；护理补贴：残疾等级一、二级且需长期照护",
    )
    cert_no = forms.CharField(label="残疾人证号", max_length=32, required=False, help_text=FROM_REGISTRY)
    cert_generation = forms.TypedChoiceField(
        label="残疾人证版本",
        choices=CERT_GENERATION_CHOICES,
        coerce=int,
        help_text="须为第二代或第三代残疾人证",
    )
    disability_category = forms.ChoiceField(
        label="残疾类别", choices=[("", "请选择"), *DisabilityCategory.choices], required=False
    )
    disability_grade = forms.TypedChoiceField(
        label="残疾等级",
        choices=[("", "请选择"), *DisabilityGrade.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    long_term_care = forms.BooleanField(label="需长期照护（6个月以上）", required=False)
    applied_on = BoundedDateField(label="申请日期", widget=DateInput(), initial=timezone.localdate)

    def __init__(self, *args, household: Household, person: Person | None = None, **kwargs):
        initial = kwargs.setdefault("initial", {})
        # Pre-filled from the registry (the person's certificate) and, from the comparison page, the
        # subsidy the person is missing.
        if person is not None:
            initial.setdefault("person", person.pk)
            initial.setdefault("cert_no", person.disability_cert_no)
            initial.setdefault("disability_category", person.disability_category)
            initial.setdefault("disability_grade", person.disability_grade)
        if "subsidies" not in initial:
            care = person is not None and person.disability_grade in CARE_GRADES
            initial["subsidies"] = [DisabilitySubsidy.LIVING] + ([DisabilitySubsidy.CARE] if care else [])
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = household.members.filter(death_date__isnull=True).order_by("pk")

    def clean(self):
        """A certificate field left empty takes the chosen member's registry value (the service refuses
        what is still missing)."""
        data = super().clean()
        person = data.get("person")
        if person is not None:
            data["cert_no"] = data.get("cert_no") or person.disability_cert_no
            data["disability_category"] = data.get("disability_category") or person.disability_category
            if data.get("disability_grade") is None:
                data["disability_grade"] = person.disability_grade
        return data


class FederationCheckForm(_StyledForm):
    grade = forms.TypedChoiceField(
        label="残联核定残疾等级", choices=[("", "请选择"), *DisabilityGrade.choices], coerce=int
    )
    opinion = forms.CharField(label="残联审核意见", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ComparisonForm(forms.Form):
    month = MonthField(label="比对月份", required=False)
