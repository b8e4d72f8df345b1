from __future__ import annotations

from django import forms

from core.validation import BoundedDateField, QueryField, date_problem

from .models import BenefitType, PaymentLine, PaymentRun, Standard
from .months import parse_month


class MonthInput(forms.TextInput):
    input_type = "month"


class MonthField(forms.CharField):
    """A month as <input type="month"> ("2024-03") → date(2024, 3, 1)."""

    widget = MonthInput

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            month = parse_month(value)
        except ValueError:
            raise forms.ValidationError("月份格式应为“2024-03”") from None
        if date_problem(month):
            raise forms.ValidationError("月份超出有效范围（1900年1月至2099年12月）")
        return month


def _benefit_type_choices(empty_label: str | None = "全部待遇") -> list[tuple[str, str]]:
    choices = [(b.code, b.name) for b in BenefitType.objects.order_by("sort_order", "code")]
    return [("", empty_label), *choices] if empty_label else choices


class RunFilterForm(forms.Form):
    benefit_type = forms.ChoiceField(label="待遇类型", required=False)
    month = MonthField(label="发放月份", required=False)
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部"), *PaymentRun.Status.choices]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["benefit_type"].choices = _benefit_type_choices()


class RunCreateForm(forms.Form):
    """Draft (or recalculate) a monthly run that may not exist yet."""

    benefit_type = forms.ChoiceField(label="待遇类型")
    month = MonthField(label="发放月份")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["benefit_type"].choices = [
            (b.code, b.name)
            for b in BenefitType.objects.filter(is_monthly=True).order_by("sort_order", "code")
        ]


class LineFilterForm(forms.Form):
    q = QueryField(label="户编号/姓名/身份证号", max_length=50)
    line_type = forms.ChoiceField(
        label="类型", required=False, choices=[("", "全部"), *PaymentLine.LineType.choices]
    )
    change = forms.ChoiceField(
        label="变动标志",
        required=False,
        choices=[("", "全部"), *[(v, label) for v, label in PaymentLine.Change.choices if v]],
    )


class StandardFilterForm(forms.Form):
    benefit_type = forms.ChoiceField(label="待遇类型", required=False)
    state = forms.ChoiceField(
        label="状态",
        required=False,
        choices=[
            ("", "全部（含历史）"),
            ("current", "现行有效"),
            ("history", "已失效"),
            ("future", "尚未生效"),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["benefit_type"].choices = _benefit_type_choices()


class StandardChangeForm(forms.Form):
    """调整标准: a new amount of one standard from a date (the types offered are those the user may change)."""

    benefit_type = forms.ModelChoiceField(label="待遇类型", queryset=None, empty_label="请选择")
    area_type = forms.ChoiceField(label="城乡", required=False)
    tier = forms.CharField(
        label="档次", max_length=40, required=False, help_text="无档次留空；须与现行标准的档次一致"
    )
    amount = forms.DecimalField(label="金额/比例", max_digits=12, decimal_places=4, min_value=0)
    unit = forms.ChoiceField(label="单位")
    effective_from = BoundedDateField(label="生效日期", widget=forms.DateInput(attrs={"type": "date"}))
    source = forms.CharField(label="依据文件", max_length=200, help_text="如：长民发〔2026〕12号")

    def __init__(self, *args, benefit_types, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["benefit_type"].queryset = benefit_types
        self.fields["area_type"].choices = Standard._meta.get_field("area_type").choices
        self.fields["unit"].choices = Standard.Unit.choices
        for field in self.fields.values():
            field.widget.attrs.setdefault(
                "class", "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            )
