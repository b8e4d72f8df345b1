from __future__ import annotations

from django import forms

from .models import BenefitType, PaymentLine, PaymentRun
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
            return parse_month(value)
        except ValueError:
            raise forms.ValidationError("月份格式应为“2024-03”") from None


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
    q = forms.CharField(label="户编号/姓名/身份证号", required=False, max_length=50)
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
