"""Forms of 低保 dynamic management: parse and render; the rules live in services."""

from __future__ import annotations

from django import forms

from core.registry.forms import BootstrapMixin

from ..models import DibaoReview
from .models import StopPreNotice


class ReviewDecisionForm(BootstrapMixin, forms.Form):
    findings = forms.CharField(
        label="复核情况",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="入户核查的家庭人口、就业、收入、财产和生活状况变化",
    )
    outcome = forms.ChoiceField(label="复核结论", choices=[("", "请选择"), *DibaoReview.Outcome.choices])
    taper_months = forms.IntegerField(
        label="渐退期（月）", required=False, min_value=1, help_text="仅渐退时填写"
    )
    reasons = forms.CharField(label="理由", widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, max_taper_months: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        if max_taper_months:
            self.fields["taper_months"].widget.attrs["max"] = max_taper_months
            self.fields["taper_months"].help_text = f"仅渐退时填写，不超过{max_taper_months}个月"
        self._style()


class PreNoticeIssueForm(BootstrapMixin, forms.Form):
    reasons = forms.CharField(
        label="拟停保理由",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="不填写的，按复核结论的理由告知",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class PreNoticeResponseForm(BootstrapMixin, forms.Form):
    response = forms.ChoiceField(
        label="家庭意见",
        choices=[("", "请选择"), *[(v, label) for v, label in StopPreNotice.Response.choices if v]],
        help_text="期满未提出意见的无需登记，期满后即可确认停发",
    )
    statement = forms.CharField(
        label="陈述申辩内容", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    consideration = forms.CharField(
        label="处理意见",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="对陈述申辩的事实、理由和证据的复核意见；成立的，应退回重新复核",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()
