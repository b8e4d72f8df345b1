from django import forms
from django.contrib.auth.forms import AuthenticationForm

from core.validation import BoundedDateField, QueryField


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码错误。连续输错多次后账号将被临时锁定。",
        "inactive": "该账号已停用，请联系系统管理员。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["username"].widget.attrs.update({"class": "form-control", "autofocus": True})
        self.fields["password"].label = "密码"
        self.fields["password"].widget.attrs.update({"class": "form-control"})


class AccessLogFilterForm(forms.Form):
    q = QueryField(label="操作人/人员姓名")
    action = forms.ChoiceField(
        label="操作",
        required=False,
        choices=[("", "全部"), ("reveal", "查看完整信息"), ("export", "导出完整信息")],
    )
    date_from = BoundedDateField(
        label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = BoundedDateField(
        label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
