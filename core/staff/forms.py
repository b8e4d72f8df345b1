"""Forms of the staff roster: they parse and render; the rules live in services.py."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from core.registry.choices import RegionLevel
from core.registry.forms import BootstrapMixin, DateInput, MaskedNumbersMixin
from core.registry.selectors import regions_visible_to
from core.validation import BoundedDateField, NoControlCharacters

from .choices import Qualification, StaffRole


def _blank(choices, label: str = "请选择") -> list:
    return [("", label), *choices]


def _text(label: str, max_length: int, **kwargs) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=max_length, required=False, validators=[NoControlCharacters()], **kwargs
    )


def _region_label(region) -> str:
    if region.level == RegionLevel.COMMUNITY and region.parent:
        return f"{region.parent.name} {region.name}"
    return region.name


class MemberForm(MaskedNumbersMixin, BootstrapMixin, forms.Form):
    """人员基本信息. The ID number is optional; when given it is checked (GB 11643) and sets the sex."""

    masked_fields = ("id_number", "phone")

    name = forms.CharField(label="姓名", max_length=50, validators=[NoControlCharacters()])
    id_number = _text(
        "身份证号码",
        32,
        widget=forms.TextInput(attrs={"data-id-number": "", "autocomplete": "off", "spellcheck": "false"}),
    )
    sex = forms.ChoiceField(
        label="性别",
        choices=_blank([("M", "男"), ("F", "女")], "—"),
        required=False,
        widget=forms.Select(attrs={"data-sex": ""}),
    )
    phone = _text("联系电话", 20)
    region = forms.ModelChoiceField(label="所属社区/街道", queryset=None, empty_label="请选择")
    workplace_name = _text(
        "工作单位", 100, help_text="在社区/街道以外的机构或站点工作时填写（如养老机构、社工站）"
    )
    note = _text("备注", 200)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        regions = regions_visible_to(user).filter(
            level__in=[RegionLevel.DISTRICT, RegionLevel.STREET, RegionLevel.COMMUNITY]
        )
        self.fields["region"].queryset = regions.select_related("parent")
        self.fields["region"].label_from_instance = _region_label
        if not self.is_bound and "region" not in self.initial:
            only = list(regions.filter(level=RegionLevel.COMMUNITY)[:2])
            if len(only) == 1:
                self.initial["region"] = only[0].pk  # a community caseworker has one community


class PositionForm(BootstrapMixin, forms.Form):
    """One position (职务): role, qualification with its certificate (持证社工, 养老护理员), from which day."""

    role = forms.ChoiceField(label="岗位", choices=_blank(StaffRole.choices))
    qualification = forms.ChoiceField(
        label="资格等级",
        choices=_blank(Qualification.choices, "—"),
        required=False,
        help_text="持证社工：职业资格等级；养老护理员：职业技能等级",
    )
    cert_number = _text("证书编号", 40)
    cert_date = BoundedDateField(label="发证日期", required=False, widget=DateInput())
    valid_from = BoundedDateField(label="任职日期", widget=DateInput(), initial=timezone.localdate)

    def __init__(self, *args, roles: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if roles is not None:
            self.fields["role"].choices = _blank([(r, StaffRole(r).label) for r in roles])

    def has_changed(self) -> bool:
        """A row is filled in when it names a role (the date alone comes prefilled with today)."""
        if not self.is_bound:
            return False
        return bool((self.data.get(self.add_prefix("role")) or "").strip())


class BasePositionFormSet(forms.BaseFormSet):
    def __init__(self, *args, roles: list[str] | None = None, **kwargs):
        self.roles = roles
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "roles": self.roles}

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            roles=self.roles,
            renderer=self.renderer,
        )
        self.add_fields(form, None)
        return form

    def live_forms(self) -> list[PositionForm]:
        """The rows filled in (a blank extra row is no position)."""
        return [f for f in self.forms if f.has_changed()]

    def positions(self) -> list[dict]:
        return [f.cleaned_data for f in self.live_forms()]


def position_formset(*, extra: int, min_num: int):
    return forms.formset_factory(
        PositionForm, formset=BasePositionFormSet, extra=extra, min_num=min_num, validate_min=False
    )


class PositionEndForm(BootstrapMixin, forms.Form):
    valid_to = BoundedDateField(
        label="离任日期", widget=DateInput(), initial=timezone.localdate, help_text="任职的最后一天"
    )
    reason = forms.CharField(label="离任原因", max_length=200, validators=[NoControlCharacters()])


class PositionChangeForm(PositionForm):
    reason = _text("变动原因", 200)

    field_order = ["valid_from", "role", "qualification", "cert_number", "cert_date", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["valid_from"].label = "变动日期"
        self.fields["valid_from"].help_text = "新职务自该日起；原职务截止到前一天"
