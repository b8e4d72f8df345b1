"""Forms of the facilities pages. They parse and offer choices; the rules (negative numbers, dates, the
inspectors' scope and count, the section of a kind) are the services', whose errors come back beside the
fields (`apply_errors`)."""

from __future__ import annotations

from django import forms

from core.registry.forms import BootstrapMixin, MaskedNumbersMixin, attachment_rules_text
from core.registry.selectors import streets_and_communities
from core.validation import BoundedDateField, NoControlCharacters

from .choices import (
    BED_FIELDS,
    RESIDENT_FIELDS,
    InspectionKind,
    OperatorType,
    RatingLevel,
    ReinspectionResult,
    Severity,
)
from .models import FacilityKind
from .services import edit_refusal, inspector_candidates

TEXT = [NoControlCharacters()]
MULTILINE = [NoControlCharacters(multiline=True)]


def _date_widget():
    return forms.DateInput(attrs={"type": "date"})


def _count_field(label: str, *, required: bool = False) -> forms.CharField:
    # A text box with the numeric keyboard: the service says what is wrong with "-3" or "abc", in Chinese.
    return forms.CharField(
        label=label,
        required=required,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        validators=TEXT,
    )


class FacilityForm(MaskedNumbersMixin, BootstrapMixin, forms.Form):
    # The institution's account number is shown masked, as on the facility page; unchanged, the service
    # keeps the stored number.
    masked_fields = ("bank_account",)

    kind = forms.ChoiceField(label="设施类别")
    name = forms.CharField(label="设施名称", max_length=100, validators=TEXT)
    region = forms.ChoiceField(label="所属街道/社区")
    address = forms.CharField(label="地址", max_length=200, validators=TEXT)
    operator_type = forms.ChoiceField(label="运营性质", choices=[("", "请选择"), *OperatorType.choices])
    operator_name = forms.CharField(label="运营单位", max_length=100, required=False, validators=TEXT)
    uscc = forms.CharField(label="统一社会信用代码", max_length=30, required=False, validators=TEXT)
    licence_no = forms.CharField(label="许可/备案编号", max_length=50, required=False, validators=TEXT)
    licensed_on = BoundedDateField(label="许可/备案日期", required=False, widget=_date_widget())
    capacity = _count_field("服务容量（人）")
    floor_area = forms.CharField(
        label="建筑面积（㎡）",
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        validators=TEXT,
    )
    beds_nursing = _count_field("护理型床位")
    beds_dementia = _count_field("失智照护床位")
    beds_general = _count_field("普通床位")
    residents_intact = _count_field("在住：能力完好")
    residents_mild = _count_field("在住：轻度失能")
    residents_moderate = _count_field("在住：中度失能")
    residents_severe = _count_field("在住：重度失能")
    residents_total = _count_field("在住：完全失能")
    rating_level = forms.ChoiceField(
        label="等级", required=False, choices=[("", "未评定"), *RatingLevel.choices]
    )
    rated_on = BoundedDateField(label="评定日期", required=False, widget=_date_widget())
    rating_valid_until = BoundedDateField(label="等级有效期至", required=False, widget=_date_widget())
    bank_name = forms.CharField(
        label="开户银行",
        max_length=60,
        required=False,
        validators=TEXT,
        help_text="特困人员集中供养的基本生活费发放到供养机构的此账户",
    )
    bank_account = forms.CharField(
        label="银行账号",
        max_length=40,
        required=False,
        validators=TEXT,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    account_name = forms.CharField(label="账户名称", max_length=100, required=False, validators=TEXT)

    BED_HELP = "仅养老机构、儿童福利机构、救助管理站等设有床位的设施填写"

    def __init__(self, *args, user, instance=None, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = [k for k in FacilityKind.objects.filter(is_active=True) if not edit_refusal(user, k)]
        if instance is not None and instance.kind not in kinds:
            kinds.insert(0, instance.kind)
        self.fields["kind"].choices = [("", "请选择"), *((k.code, k.name) for k in kinds)]
        streets, communities = streets_and_communities(user)
        street_names = {r.pk: r.name for r in streets}
        self.fields["region"].choices = [("", "请选择")] + [
            (r.code, f"{street_names.get(r.parent_id, '')} {r.name}".strip())
            for r in sorted([*streets, *communities], key=lambda r: r.code)
        ]
        self.fields["beds_nursing"].help_text = self.BED_HELP
        if instance is not None:
            self.fields["is_active"] = forms.BooleanField(label="在用（取消勾选即停用）", required=False)
            self._style()


def facility_initial(facility) -> dict:
    initial = {
        "kind": facility.kind.code,
        "region": facility.region_code,
        "is_active": facility.is_active,
    }
    for name in (
        "name",
        "address",
        "operator_type",
        "operator_name",
        "uscc",
        "licence_no",
        "licensed_on",
        "capacity",
        "floor_area",
        "rating_level",
        "rated_on",
        "rating_valid_until",
        "bank_name",
        "bank_account",
        "account_name",
        *(n for n, _ in BED_FIELDS + RESIDENT_FIELDS),
    ):
        initial[name] = getattr(facility, name)
    return initial


class InspectionForm(BootstrapMixin, forms.Form):
    inspected_on = BoundedDateField(label="检查日期", widget=_date_widget())
    kind = forms.ChoiceField(label="检查类型", choices=[("", "请选择"), *InspectionKind.choices])
    inspectors = forms.MultipleChoiceField(
        label="检查人员",
        widget=forms.CheckboxSelectMultiple,
        help_text="区级检查、专项检查至少2人",
        error_messages={"required": "请选择检查人员"},
    )
    findings = forms.CharField(
        label="检查情况", required=False, widget=forms.Textarea(attrs={"rows": 3}), validators=MULTILINE
    )

    def _style(self) -> None:
        # Checkboxes, not a text box: BootstrapMixin would give the multiple-choice widget form-control.
        super()._style()
        invalid = " is-invalid" if self._errors and "inspectors" in self._errors else ""
        self.fields["inspectors"].widget.attrs["class"] = "form-check-input" + invalid

    def __init__(self, *args, facility, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspectors"].choices = [
            (str(u.pk), f"{u}（{u.region.name if u.region_id else ''}）")
            for u in inspector_candidates(facility).select_related("region")
        ]


class HazardForm(BootstrapMixin, forms.Form):
    description = forms.CharField(label="隐患描述", max_length=1000, validators=MULTILINE)
    severity = forms.ChoiceField(label="隐患等级", choices=[("", "请选择"), *Severity.choices])
    deadline = BoundedDateField(label="整改期限", widget=_date_widget())
    responsible_person = forms.CharField(label="整改责任人", max_length=50, validators=TEXT)


HazardFormSet = forms.formset_factory(HazardForm, extra=3, max_num=50, validate_max=True)


class RectifyForm(BootstrapMixin, forms.Form):
    rectified_on = BoundedDateField(label="整改完成日期", widget=_date_widget())
    note = forms.CharField(label="整改情况", widget=forms.Textarea(attrs={"rows": 3}), validators=MULTILINE)


class ReinspectForm(BootstrapMixin, forms.Form):
    reinspected_on = BoundedDateField(label="复查日期", widget=_date_widget())
    result = forms.ChoiceField(label="复查结果", choices=[("", "请选择"), *ReinspectionResult.choices])
    new_deadline = BoundedDateField(
        label="新的整改期限", required=False, widget=_date_widget(), help_text="复查不合格时填写"
    )
    note = forms.CharField(
        label="复查意见", required=False, widget=forms.Textarea(attrs={"rows": 3}), validators=MULTILINE
    )


class PhotoForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label="照片")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = f"隐患现场或整改后的照片。{attachment_rules_text()}"
