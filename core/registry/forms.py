"""Forms parse and render; the rules live in services (whose errors are put back beside the fields)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.validation import BoundedDateField

from .choices import (
    AreaType,
    AssetKind,
    AttachmentType,
    DisabilityCategory,
    DisabilityGrade,
    DocumentType,
    IncomeKind,
    IncomeTreatment,
    LabourCapacity,
    MaritalStatus,
    RegionLevel,
    Relation,
    SelfCare,
    Sex,
    income_treatment,
)
from .masking import MASKS
from .models import AssetRecord, Household, Person, Region
from .selectors import regions_visible_to


def _blank(choices, label: str = "请选择") -> list[tuple[str, str]]:
    return [("", label), *choices]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class BootstrapMixin:
    """Bootstrap classes on every widget; invalid fields get `is-invalid` so the message shows beside them.

    The widgets are styled when the form is made, and again once it is cleaned or given an error. A form
    that adds fields in its own `__init__` calls `self._style()` after adding them; styling twice is
    harmless (a class already there is not added again)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()

    def _style(self) -> None:
        for name, field in self.fields.items():
            widget = field.widget
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            classes = widget.attrs.get("class", "").split()
            wanted = [css]
            # Only look at errors already computed: reading `self.errors` here would clean the form
            # during __init__, before a formset adds its DELETE field.
            if self._errors and name in self._errors:
                wanted.append("is-invalid")
            widget.attrs["class"] = " ".join([*classes, *(c for c in wanted if c not in classes)])

    def full_clean(self):
        super().full_clean()
        self._style()

    def add_error(self, field, error):
        super().add_error(field, error)
        self._style()


class HouseholdForm(BootstrapMixin, forms.Form):
    region = forms.ModelChoiceField(
        label="所属社区/村", queryset=Region.objects.none(), empty_label="请选择社区/村"
    )
    address = forms.CharField(label="住址", max_length=200)
    area_type = forms.ChoiceField(
        label="城乡类型", choices=_blank(AreaType.choices, "按社区/村默认"), required=False
    )
    phone = forms.CharField(label="联系电话", max_length=20, required=False)
    bank_name = forms.CharField(label="开户银行", max_length=60, required=False)
    bank_account = forms.CharField(label="银行账号", max_length=32, required=False)
    account_holder = forms.CharField(label="代领人/账户名", max_length=50, required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions_visible_to(user, level=RegionLevel.COMMUNITY).select_related(
            "parent"
        )
        self.fields["region"].label_from_instance = lambda r: f"{r.parent.name if r.parent else ''} {r.name}"
        communities = list(self.fields["region"].queryset[:2])
        if len(communities) == 1 and not self.is_bound:
            self.initial.setdefault("region", communities[0].pk)  # a community caseworker has only one


MASKED_HELP = "为保护个人信息只显示部分号码；不修改则保留原号码，修改请填写完整号码"


class MaskedNumbersMixin:
    """An edit form shows the numbers in `masked_fields` masked, as the detail page does, unless the user may
    see them in full (`full_numbers`, registry.view_full_personal_data: the view logs the reveal). The service
    keeps the stored number when the masked text comes back unchanged (masking.unmasked)."""

    masked_fields: tuple[str, ...] = ()

    def __init__(self, *args, full_numbers: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.full_numbers = full_numbers
        if full_numbers:
            return
        for name in self.masked_fields:
            stored = self.initial.get(name) or ""
            self.initial[name] = MASKS[name](stored)
            if stored:
                self.fields[name].help_text = MASKED_HELP
            self.fields[name].widget.attrs["autocomplete"] = "off"


class HouseholdEditForm(MaskedNumbersMixin, BootstrapMixin, forms.ModelForm):
    masked_fields = ("bank_account", "phone")

    class Meta:
        model = Household
        fields = ["address", "area_type", "phone", "bank_name", "bank_account", "account_holder"]


class MemberForm(BootstrapMixin, forms.Form):
    """One row of the household's member table; the ID number fills birth date and sex (static/js/app.js)."""

    name = forms.CharField(label="姓名", max_length=50)
    relation = forms.ChoiceField(label="与户主关系", choices=_blank(Relation.choices))
    id_type = forms.ChoiceField(label="证件类型", choices=DocumentType.choices, initial=DocumentType.RIC)
    id_number = forms.CharField(
        label="证件号码",
        max_length=32,
        widget=forms.TextInput(attrs={"data-id-number": "", "autocomplete": "off", "spellcheck": "false"}),
    )
    birth_date = BoundedDateField(
        label="出生日期", required=False, widget=DateInput(attrs={"data-birth-date": ""})
    )
    sex = forms.ChoiceField(
        label="性别",
        choices=_blank(Sex.choices, "—"),
        required=False,
        widget=forms.Select(attrs={"data-sex": ""}),
    )
    phone = forms.CharField(label="联系电话", max_length=20, required=False)
    marital_status = forms.ChoiceField(
        label="婚姻状况", choices=MaritalStatus.choices, initial=MaritalStatus.UNMARRIED
    )
    disability_category = forms.ChoiceField(
        label="残疾类别", choices=_blank(DisabilityCategory.choices, "无"), required=False
    )
    disability_grade = forms.TypedChoiceField(
        label="残疾等级",
        choices=_blank(DisabilityGrade.choices, "—"),
        required=False,
        coerce=int,
        empty_value=None,
    )
    self_care = forms.ChoiceField(label="自理能力", choices=SelfCare.choices, initial=SelfCare.FULL)
    labour_capacity = forms.ChoiceField(
        label="劳动能力", choices=LabourCapacity.choices, initial=LabourCapacity.FULL
    )
    serious_illness = forms.BooleanField(label="重病", required=False)


class BaseMemberFormSet(forms.BaseFormSet):
    def members(self) -> list[dict]:
        """The cleaned rows not marked for deletion, with their form index (to map service errors back)."""
        return [f.cleaned_data for f in self.live_forms()]

    def live_forms(self) -> list[MemberForm]:
        return [f for f in self.forms if f.has_changed() and not self._should_delete_form(f)]


MemberFormSet = forms.formset_factory(
    MemberForm, formset=BaseMemberFormSet, extra=0, min_num=1, validate_min=True, can_delete=True
)


class PersonEditForm(MaskedNumbersMixin, BootstrapMixin, forms.ModelForm):
    masked_fields = ("phone",)

    class Meta:
        model = Person
        fields = [
            "name",
            "phone",
            "ethnicity",
            "disability_category",
            "disability_grade",
            "disability_cert_no",
            "serious_illness",
            "self_care",
            "labour_capacity",
        ]


class _MemberChoiceMixin:
    def _members(self, household: Household | None) -> None:
        people = (
            household.members.filter(death_date__isnull=True).order_by("pk")
            if household
            else Person.objects.none()
        )
        self.fields["person"].queryset = people


class IncomeForm(BootstrapMixin, _MemberChoiceMixin, forms.Form):
    kind = forms.ChoiceField(
        label="收入类型",
        choices=_blank(
            [
                (v, f"{label}（{IncomeTreatment(income_treatment(v)).label}）")
                for v, label in IncomeKind.choices
            ]
        ),
    )
    person = forms.ModelChoiceField(
        label="成员", queryset=Person.objects.none(), required=False, empty_label="全家"
    )
    monthly_amount = forms.DecimalField(label="月均金额（元）", max_digits=12, decimal_places=2)
    period_start = BoundedDateField(label="起始日期", widget=DateInput())
    period_end = BoundedDateField(
        label="截止日期", required=False, widget=DateInput(), help_text="长期收入可不填"
    )
    note = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args, household=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._members(household)


class AssetForm(BootstrapMixin, _MemberChoiceMixin, forms.Form):
    kind = forms.ChoiceField(label="财产类型", choices=_blank(AssetKind.choices))
    person = forms.ModelChoiceField(
        label="所有人", queryset=Person.objects.none(), required=False, empty_label="全家共有"
    )
    value = forms.DecimalField(label="价值（元）", max_digits=14, decimal_places=2)
    recorded_on = BoundedDateField(label="核查日期", widget=DateInput(), initial=timezone.localdate)
    description = forms.CharField(label="描述", max_length=200, required=False)
    for_disability = forms.BooleanField(
        label="残疾人功能性补偿代步车辆",
        required=False,
        help_text="仅机动车：家庭成员因残疾生活必需的代步车辆",
    )
    registered_capital = forms.DecimalField(
        label="注册资本（元）",
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text="仅经营性资产：登记注册的企业、个体工商户填写注册资本（出资额）",
    )
    replaces = forms.ModelChoiceField(
        label="同时注销原记录",
        queryset=AssetRecord.objects.none(),
        required=False,
        empty_label="不注销（新增一项财产）",
        help_text="同一财产重新核查（如存款余额变化）时选择原记录：原记录自本次核查日期起不再计入，避免重复计算",
    )

    def __init__(self, *args, household=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._members(household)
        held = (
            household.assets.filter(disposed_on__isnull=True).select_related("person").order_by("kind", "pk")
            if household
            else AssetRecord.objects.none()
        )
        self.fields["replaces"].queryset = held
        self.fields["replaces"].label_from_instance = asset_record_label


def asset_record_label(record: AssetRecord) -> str:
    """An asset record in a choice list: kind, owner, value and 核查日期."""
    owner = record.person.name if record.person_id else "全家共有"
    what = f"（{record.description}）" if record.description else ""
    return (
        f"{record.get_kind_display()}{what} · {owner} · {record.value:,.2f} 元 · "
        f"{record.recorded_on:%Y-%m-%d}核查"
    )


class AssetEndForm(BootstrapMixin, forms.Form):
    on_date = BoundedDateField(
        label="处置/注销日期",
        widget=DateInput(),
        initial=timezone.localdate,
        help_text="自该日起家庭不再持有此项财产，财产核对不再计入",
    )
    reason = forms.CharField(
        label="处置/注销原因", max_length=200, help_text="如：车辆已出售、存款已支取、重复登记、重新核查登记"
    )


def attachment_rules_text() -> str:
    """What an upload accepts, shown under every file field (services.attachment_add checks the same)."""
    from django.conf import settings

    size = settings.ATTACHMENT_MAX_BYTES
    limit = f"{size // 1024 // 1024} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"
    return f"支持 {'、'.join(settings.ATTACHMENT_ALLOWED_EXTENSIONS)} 格式，单个文件不超过 {limit}"


class AttachmentForm(BootstrapMixin, forms.Form):
    doc_type = forms.ChoiceField(label="材料类型", choices=_blank(AttachmentType.choices))
    file = forms.FileField(label="文件")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = attachment_rules_text()


class DeathForm(BootstrapMixin, forms.Form):
    death_date = BoundedDateField(label="死亡日期", widget=DateInput())
    certificate_no = forms.CharField(label="死亡证明编号", max_length=50, required=False)
    note = forms.CharField(label="说明", max_length=200, required=False)


class MoveForm(BootstrapMixin, forms.Form):
    to_household = forms.CharField(label="迁入家庭户编号", max_length=20)
    relation = forms.ChoiceField(label="与新户主关系", choices=_blank(Relation.choices))
    date = BoundedDateField(label="迁移日期", widget=DateInput(), initial=timezone.localdate)
    reason = forms.CharField(label="变动原因", max_length=100, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_to_household(self) -> Household:
        """The number typed becomes the household, looked up in the user's scope only: a household outside
        it answers like one that does not exist."""
        number = self.cleaned_data["to_household"]
        target = Household.objects.visible_to(self.user).filter(number=number).first()
        if target is None:
            raise ValidationError("未找到该户编号的家庭（或不在您的管辖范围内）")
        return target


class MaritalForm(BootstrapMixin, forms.Form):
    new_status = forms.ChoiceField(label="新的婚姻状况", choices=MaritalStatus.choices)
    date = BoundedDateField(label="变更日期", widget=DateInput(), initial=timezone.localdate)
    note = forms.CharField(label="说明", max_length=200, required=False)
