from __future__ import annotations

from django import forms
from django.utils import timezone

from core.accounts.models import Role
from core.validation import BoundedDateField, QueryField

from .engine import all_status_choices, case_type_choices, status_label_choices
from .models import DeliveryMethod
from .selectors import SORT_FIELDS
from .services import MAX_NOTICE_DAYS


class _StatusField(forms.ChoiceField):
    """Offers each status label once; a status code (a link from before) is valid too."""

    def valid_value(self, value) -> bool:
        return super().valid_value(value) or any(value == code for code, _ in all_status_choices())


class CaseFilterForm(forms.Form):
    q = QueryField(label="关键词", widget=forms.TextInput(attrs={"placeholder": "案件编号 / 申请人姓名"}))
    case_type = forms.ChoiceField(label="业务类型", required=False)
    # A label (each once) or, from an older link, a status code: see engine.status_q.
    status = _StatusField(label="状态", required=False)
    assignee_role = forms.ChoiceField(
        label="待办角色", required=False, choices=[("", "全部")] + [(r.value, r.value) for r in Role]
    )
    open = forms.ChoiceField(
        label="办理状态", required=False, choices=[("", "全部"), ("1", "办理中"), ("0", "已办结")]
    )
    overdue = forms.BooleanField(label="仅看超期", required=False)
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_type"].choices = [("", "全部")] + case_type_choices()
        self.fields["status"].choices = [("", "全部"), *status_label_choices()]

    def clean_sort(self) -> str:
        sort = self.cleaned_data.get("sort") or ""
        return sort if sort.lstrip("-") in SORT_FIELDS else ""

    def params(self) -> dict:
        """The filters as `case_search` takes them ({} for an invalid form)."""
        if not self.is_valid():
            return {}
        data = dict(self.cleaned_data)
        data["overdue"] = "1" if data.get("overdue") else ""
        return data


class TransitionForm(forms.Form):
    name = forms.CharField(widget=forms.HiddenInput)
    comment = forms.CharField(label="办理意见", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class NoticeOpenForm(forms.Form):
    start_date = BoundedDateField(label="公示开始日期", widget=forms.DateInput(attrs={"type": "date"}))
    days = forms.IntegerField(
        label="公示天数",
        min_value=1,
        max_value=MAX_NOTICE_DAYS,
        initial=7,
        error_messages={
            "invalid": "公示天数应为整数",
            "min_value": "公示天数至少为1天",
            "max_value": f"公示天数不能超过{MAX_NOTICE_DAYS}天",
        },
    )
    place = forms.CharField(label="公示地点", max_length=100, initial="社区（村）公示栏")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start_date"].initial = timezone.localdate()


class NoticeObjectionForm(forms.Form):
    objection = forms.CharField(label="异议内容", widget=forms.Textarea(attrs={"rows": 2}))


class DecisionDeliveryForm(forms.Form):
    """登记送达 of a decision notice (the rules are the service's: services.decision_delivery_record)."""

    delivered_on = BoundedDateField(label="送达日期", widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.ChoiceField(label="送达方式", choices=[("", "请选择"), *DeliveryMethod.choices])
    recipient = forms.CharField(label="受送达人", max_length=100)
    note = forms.CharField(
        label="备注", max_length=200, required=False, help_text="如邮件单号、留置送达的见证人"
    )

    def __init__(self, *args, recipient: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delivered_on"].initial = timezone.localdate()
        self.fields["recipient"].initial = recipient
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", f"{css} {css}-sm")
