from __future__ import annotations

from django import forms

from .models import ReportJob
from .registry import report_types


class JobFilterForm(forms.Form):
    scope = forms.ChoiceField(
        label="范围", required=False, choices=[("mine", "我的报表"), ("all", "本辖区全部报表")]
    )
    report_type = forms.ChoiceField(label="报表类型", required=False)
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部"), *ReportJob.Status.choices]
    )

    def __init__(self, *args, can_see_all: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["report_type"].choices = [("", "全部"), *[(t.code, t.label) for t in report_types()]]
        if not can_see_all:
            del self.fields["scope"]
