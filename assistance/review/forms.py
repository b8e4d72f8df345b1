"""Forms of 低保 dynamic management: parse and render; the rules live in services."""

from __future__ import annotations

from django import forms

from core.registry.forms import BootstrapMixin
from core.registry.selectors import streets_and_communities

from ..models import DibaoReview
from .case_types import ReviewStatus

STATUS_FILTER_CHOICES = [
    ("", "全部状态"),
    ("open", "办理中"),
    ("overdue", "已超期"),
    *ReviewStatus.choices,
]


class ReviewFilterForm(forms.Form):
    q = forms.CharField(label="查询", required=False)
    street = forms.ChoiceField(label="街道/乡镇", required=False)
    community = forms.ChoiceField(label="社区/村", required=False)
    status = forms.ChoiceField(label="状态", required=False, choices=STATUS_FILTER_CHOICES)
    outcome = forms.ChoiceField(
        label="复核结论", required=False, choices=[("", "全部结论"), *DibaoReview.Outcome.choices]
    )
    frequency = forms.ChoiceField(
        label="复核周期", required=False, choices=[("", "全部周期"), *DibaoReview.Frequency.choices]
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        streets, communities = streets_and_communities(user)
        self.fields["street"].choices = [("", "全部街道"), *((r.code, r.name) for r in streets)]
        self.fields["community"].choices = [("", "全部社区"), *((r.code, r.name) for r in communities)]

    def params(self) -> dict:
        return dict(self.cleaned_data) if self.is_valid() else {}


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
