from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone

from core.registry.forms import BootstrapMixin
from core.validation import BoundedDateField

from .models import Need, VisitWay
from .programmes import RiskLevel
from .selectors import programmes_for


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class VisitForm(forms.Form):
    """The visit entry page (mobile: one column, large controls; styled in the template)."""

    visited_on = BoundedDateField(label="探访日期", widget=_date_input())
    way = forms.ChoiceField(label="探访方式", choices=VisitWay.choices, widget=forms.RadioSelect)
    visitors = forms.TypedMultipleChoiceField(
        label="探访人员", coerce=int, widget=forms.CheckboxSelectMultiple
    )
    findings = forms.CharField(label="探访情况", widget=forms.Textarea(attrs={"rows": 4}), max_length=2000)
    risk_level = forms.ChoiceField(label="风险等级", choices=RiskLevel.choices, widget=forms.RadioSelect)
    needs = forms.MultipleChoiceField(
        label="发现的需求", choices=Need.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    needs_other = forms.CharField(label="其他需求（请写明）", max_length=200, required=False)
    follow_up = forms.CharField(
        label="跟进事项", widget=forms.Textarea(attrs={"rows": 2}), max_length=500, required=False
    )
    follow_up_due = BoundedDateField(label="跟进期限", widget=_date_input(), required=False)

    def __init__(self, *args, visitors, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visitors"].choices = [(u.pk, u.display_name or u.username) for u in visitors]
        self.fields["visitors"].initial = [actor.pk]
        self.fields["visited_on"].initial = timezone.localdate()
        self.fields["way"].initial = VisitWay.HOME
        self.fields["risk_level"].initial = RiskLevel.LOW


class EnrollForm(BootstrapMixin, forms.Form):
    programme = forms.ChoiceField(label="探访项目")
    joined_on = BoundedDateField(label="纳入日期", widget=_date_input())
    reason = forms.CharField(
        label="纳入原因", max_length=200, help_text="如：孤儿、事实无人抚养儿童、留守儿童、社区摸排发现独居"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = [("", "请选择")] + [
            (p.code, p.title) for p in programmes_for(user)
        ]
        self.fields["joined_on"].initial = timezone.localdate()
        self._style()


class LeaveForm(BootstrapMixin, forms.Form):
    left_on = BoundedDateField(label="退出日期", widget=_date_input())
    reason = forms.CharField(
        label="退出原因", max_length=200, help_text="如：死亡、迁出本区、入住养老机构、不再符合条件"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["left_on"].initial = timezone.localdate()


class FollowUpDoneForm(BootstrapMixin, forms.Form):
    done_on = BoundedDateField(label="完成日期", widget=_date_input())
    result = forms.CharField(label="跟进结果", widget=forms.Textarea(attrs={"rows": 3}), max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["done_on"].initial = timezone.localdate()


class SuggestionFilterForm(forms.Form):
    programme = forms.ChoiceField(label="探访项目", required=False)
    community = forms.ChoiceField(label="社区/村", required=False)

    def __init__(self, *args, user, communities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = [(p.code, p.title) for p in programmes_for(user)]
        self.fields["community"].choices = [("", "全部社区")] + [(r.code, r.name) for r in communities]


class SuggestionActionForm(forms.Form):
    """确认纳入 / 不予纳入 of the persons ticked on the suggestion page (`persons`, read by the view)."""

    action = forms.ChoiceField(choices=[("confirm", "确认纳入"), ("dismiss", "不予纳入")])
    programme = forms.CharField(max_length=40)
    joined_on = BoundedDateField(label="纳入日期", required=False)
    reason = forms.CharField(label="不纳入原因", max_length=200, required=False)


class CoverageForm(forms.Form):
    month = BoundedDateField(label="月份", input_formats=["%Y-%m"], required=False)
    programme = forms.ChoiceField(label="探访项目", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = [("", "全部项目")] + [
            (p.code, p.title) for p in programmes_for(user)
        ]

    def clean_month(self) -> datetime.date:
        month = self.cleaned_data.get("month") or timezone.localdate()
        if not datetime.date(1900, 1, 1) <= month <= datetime.date(2099, 12, 31):
            raise forms.ValidationError("请选择有效的月份")
        return month.replace(day=1)
