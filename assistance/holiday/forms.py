from __future__ import annotations

from django import forms

from core.benefits.forms import MonthField
from core.registry.forms import BootstrapMixin


class HolidayPaymentForm(BootstrapMixin, forms.Form):
    title = forms.CharField(
        label="发放名称",
        max_length=100,
        help_text="如：2027年元旦春节一次性生活补贴；同名同月再次生成将替换草稿明细",
    )
    month = MonthField(label="发放月份")
    household_amount = forms.DecimalField(
        label="低保家庭每户金额（元）", max_digits=10, decimal_places=2, min_value=0
    )
    person_amount = forms.DecimalField(
        label="特困人员每人金额（元）",
        max_digits=10,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text="留空则与低保家庭每户金额相同",
    )
