"""Forms parse and render; the rules live in services (their errors are put back beside the fields)."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from core.registry.forms import BootstrapMixin, DateInput
from core.registry.models import Household
from core.validation import BoundedDateField

from .low_income.rules import RIGID_SPENDING_KINDS
from .models import AssistanceApplication, Category, Investigation, PovertyCause
from .services import visitor_candidates


class _StyledForm(BootstrapMixin, forms.Form):
    """Bootstrap styling; multi-checkbox groups get `form-check-input` on each box."""

    def _style(self) -> None:
        super()._style()
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxSelectMultiple):
                field.widget.attrs["class"] = "form-check-input"


class PersonChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        relation = obj.get_relation_display() if obj.relation else ""
        return f"{obj.name}（{relation}）" if relation else obj.name


class StaffChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        region = obj.region.name if obj.region_id else ""
        return f"{obj}（{region}）" if region else str(obj)


class DibaoApplicationForm(_StyledForm):
    members = PersonChoiceField(
        label="申请保障成员",
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text="默认为家庭全部在世成员",
    )
    categories = forms.MultipleChoiceField(
        label="申请救助类别",
        choices=Category.choices,
        initial=[Category.DIBAO],
        widget=forms.CheckboxSelectMultiple,
        help_text="一次申请，按各类别一并审核确认",
    )
    applied_on = BoundedDateField(label="申请日期", widget=DateInput(), initial=timezone.localdate)
    poverty_cause = forms.ChoiceField(
        label="主要致贫原因", choices=[("", "请选择"), *PovertyCause.choices], help_text="用于民政统计月报"
    )
    promise_signed = forms.BooleanField(label="申请人已签署告知承诺书", required=False)
    authorisation_signed = forms.BooleanField(label="申请人已签署家庭经济状况核对授权书", required=False)
    staff_relative = forms.BooleanField(
        label="申请人为工作人员或村（社区）干部近亲属（单独备案，须区级入户核查）", required=False
    )
    notes = forms.CharField(label="备注", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, household: Household, **kwargs):
        super().__init__(*args, **kwargs)
        living = household.members.filter(death_date__isnull=True).order_by("pk")
        self.fields["members"].queryset = living
        self.fields["members"].initial = list(living.values_list("pk", flat=True))
        self.fields["members"].help_text = (
            "默认为家庭全部在世成员。只申请部分成员（单人保）仅限低保边缘家庭中持一、二级残疾证，"
            "或三级智力、精神残疾证，或患重病的成员"
        )
        # 刚性支出困难家庭: the past 12 months' spending by kind (the service stores it as `rigid_spending`).
        for key, label in RIGID_SPENDING_KINDS:
            self.fields[f"rigid_{key}"] = forms.DecimalField(
                label=f"近12个月{label}（元）",
                required=False,
                min_value=0,
                max_digits=10,
                decimal_places=2,
                help_text="申请刚性支出困难家庭认定时填写" if key == "medical" else "",
            )
        self._style()

    def clean(self):
        data = super().clean()
        spending = {}
        for key, _label in RIGID_SPENDING_KINDS:
            value = data.pop(f"rigid_{key}", None)
            if value is not None:
                spending[key] = value
        data["rigid_spending"] = spending
        if Category.RIGID in (data.get("categories") or []) and not spending:
            self.add_error("rigid_medical", "申请刚性支出困难家庭认定须填写近12个月刚性支出")
        return data


class RecogniseForm(_StyledForm):
    """科长确认: 不符合低保, 认定为低保边缘家庭 / 刚性支出困难家庭 by the same decision. The choices are the
    categories the assessment says the household fits (services.recognisable_categories)."""

    category = forms.ChoiceField(label="认定为", widget=forms.RadioSelect)
    reasons = forms.CharField(
        label="不予批准低保的理由",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="写入审核确认结果和决定书",
    )

    def __init__(self, *args, fitting=(), **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Category.choices)
        codes = {"dibao_edge": Category.EDGE, "rigid": Category.RIGID}
        choices = [(codes[a.code], f"{labels[codes[a.code]]}（{a.reason}）") for a in fitting]
        self.fields["category"].choices = choices
        if choices:
            self.fields["category"].initial = choices[0][0]
        if not self.is_bound:
            self.initial.setdefault("reasons", "家庭月人均收入不低于低保标准，不符合最低生活保障条件")

    def _style(self) -> None:
        super()._style()
        if "category" in self.fields:
            self.fields["category"].widget.attrs["class"] = "form-check-input"


class InvestigationForm(_StyledForm):
    visit_date = BoundedDateField(label="入户日期", widget=DateInput(), initial=timezone.localdate)
    visitors = StaffChoiceField(
        label="调查人员",
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text="不少于2名工作人员",
    )
    findings = forms.CharField(
        label="调查情况",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="家庭人口、居住、收入来源、财产、就业和生活状况等",
    )
    economic_check_result = forms.ChoiceField(
        label="家庭经济状况核对结果",
        choices=[("", "请选择"), *Investigation.EconomicCheck.choices],
    )
    economic_check_note = forms.CharField(
        label="核对说明", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    district_visit = forms.BooleanField(label="区级入户核查", required=False)

    def __init__(self, *args, application: AssistanceApplication, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visitors"].queryset = visitor_candidates(application)
        if application.staff_relative:
            self.fields["district_visit"].help_text = "本申请为近亲属备案申请，须经区级入户核查"


class TimeLimitExtensionForm(_StyledForm):
    """延长办理期限: the reason is required (services.dibao_extend_time_limit checks it too)."""

    reason = forms.CharField(
        label="延长理由",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="如：家庭经济状况核对结果未反馈、需补充调查等。受理后办理总时限由30个工作日延长至45个工作日，每案限一次。",
    )
