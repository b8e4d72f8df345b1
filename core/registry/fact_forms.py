"""Forms of the registry facts and assessments (core/registry/facts.py holds the rules)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.validation import BoundedDateField, NoControlCharacters

from .choices import (
    ASSESSMENT_LEVELS,
    FACT_VALUES,
    HOUSEHOLD_FACT_KINDS,
    PERSON_FACT_KINDS,
    AssessmentKind,
    FactKind,
    FactSource,
)
from .forms import BootstrapMixin, DateInput
from .models import PersonFact

SEPARATOR = ":"


def _blank(choices, label: str = "请选择") -> list:
    return [("", label), *choices]


def fact_choices(subject_kind: str) -> list:
    """The kinds of a person's (or a household's) facts; a kind with values is a group of "kind:value"."""
    kinds = PERSON_FACT_KINDS if subject_kind == "person" else HOUSEHOLD_FACT_KINDS
    choices = []
    for kind, label in FactKind.choices:
        if kind not in kinds:
            continue
        values = FACT_VALUES.get(kind)
        if values is None:
            choices.append((kind, label))
        else:
            choices.append((label, [(f"{kind}{SEPARATOR}{v}", v_label) for v, v_label in values.choices]))
    return choices


def _note(label: str) -> forms.CharField:
    return forms.CharField(label=label, max_length=200, required=False, validators=[NoControlCharacters()])


class FactForm(BootstrapMixin, forms.Form):
    """登记信息: the kind (with its value) chosen in one list, from which day, how it was learned."""

    kind = forms.ChoiceField(label="登记信息")
    valid_from = BoundedDateField(
        label="起始日期",
        widget=DateInput(),
        initial=timezone.localdate,
        help_text="自该日起成立；如原有同类信息，原信息截止到前一天",
    )
    source = forms.ChoiceField(label="信息来源", choices=_blank(FactSource.choices))
    note = _note("说明")

    def __init__(self, *args, subject_kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = _blank(fact_choices(subject_kind))

    def clean(self):
        data = super().clean()
        kind, _, value = (data.get("kind") or "").partition(SEPARATOR)
        if kind:
            data["kind"], data["value"] = kind, value
        return data


class FactEndForm(BootstrapMixin, forms.Form):
    """结束登记: which open fact, its last day, why."""

    kind = forms.ChoiceField(label="结束的登记信息")
    valid_to = BoundedDateField(
        label="截止日期", widget=DateInput(), initial=timezone.localdate, help_text="该信息成立的最后一天"
    )
    reason = _note("结束原因")

    def __init__(self, *args, open_facts: list[PersonFact], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = _blank(
            [
                (f.kind, f"{f.label}（自{f.valid_from.year}年{f.valid_from.month}月{f.valid_from.day}日起）")
                for f in open_facts
            ]
        )


def level_choices() -> list:
    return [
        (AssessmentKind(kind).label, [(f"{kind}{SEPARATOR}{v}", label) for v, label in levels.choices])
        for kind, levels in ASSESSMENT_LEVELS.items()
    ]


class AssessmentForm(BootstrapMixin, forms.Form):
    """评估: the kind and level chosen in one list; the validity defaults to one year."""

    level = forms.ChoiceField(label="评估类别与等级", choices=_blank(level_choices()))
    assessed_on = BoundedDateField(label="评估日期", widget=DateInput(), initial=timezone.localdate)
    valid_until = BoundedDateField(
        label="有效期至",
        widget=DateInput(),
        required=False,
        help_text="不填则为一年（至次年评估日的前一天）；需提前复评的可填写更早的日期",
    )
    assessor = forms.CharField(label="评估人员", max_length=100, validators=[NoControlCharacters()])
    assessor_org = forms.CharField(label="评估机构", max_length=100, validators=[NoControlCharacters()])
    note = _note("说明")

    def clean(self):
        data = super().clean()
        kind, _, level = (data.get("level") or "").partition(SEPARATOR)
        if kind:
            data["kind"], data["level"] = kind, level
        return data

    def clean_level(self) -> str:
        value = self.cleaned_data["level"]
        if SEPARATOR not in value:
            raise ValidationError("请选择评估类别与等级")
        return value
