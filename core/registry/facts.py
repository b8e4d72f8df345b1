"""Registry facts (登记信息) and assessments (评估): dated records, never flags overwritten.

A fact says that something held for a person or a household from one day to another: 户籍/常住状况,
独居, 空巢, 留守老人, 失独, 优抚对象 of a person; 计划生育特殊家庭, 防返贫监测户 of a household. Recording a new
value closes the open row the day before the new one starts; ending a fact sets its last day. An
assessment (老年人能力评估, the 特困 care-tier assessment) is valid from its date to `valid_until`, and a
re-assessment supersedes the earlier one from its own date. So every question "what was true on day D"
has one answer, and nothing that was once recorded is changed except the closing date of an open fact.

Writes (`fact_record`, `fact_end`, `assessment_record`) are atomic and lock the subject's row, so two
recordings of one person or household run one after the other and the second sees the first; the
conditional unique constraints (one open fact per subject and kind, one assessment per person, kind and
day) hold even for writers that skip the lock. Reads are set-based: one query each, whatever the number
of persons asked about."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from core.constraints import violated
from core.validation import date_problem, has_control_characters

from . import services
from .choices import (
    ASSESSMENT_LEVELS,
    FACT_VALUES,
    HOUSEHOLD_FACT_KINDS,
    PERSON_FACT_KINDS,
    AssessmentKind,
    FactKind,
    FactSource,
)
from .models import Assessment, Household, Membership, Person, PersonFact
from .text import visible_text

Subject = Person | Household

NOTE_MAX_LENGTH = 200
ONE_DAY = datetime.timedelta(days=1)


def _cn(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _today() -> datetime.date:
    return timezone.localdate()


def _subject_filter(subject: Subject) -> dict[str, Subject]:
    if isinstance(subject, Person):
        return {"person": subject}
    if isinstance(subject, Household):
        return {"household": subject}
    raise TypeError("a fact is about a Person or a Household")


def _lock(subject: Subject) -> Subject:
    """The subject's row, locked until the transaction ends: recordings of one subject run in turn."""
    return type(subject).objects.select_for_update().get(pk=subject.pk)


def _text(value, label: str, errors: dict[str, str], key: str, *, required: bool = False) -> str:
    text, problem = visible_text(value, label)
    if has_control_characters(str(value or "")):
        errors[key] = f"{label}含有无效字符（控制字符）"
    elif problem:
        errors[key] = problem
    elif required and not text:
        errors[key] = f"请填写{label}"
    elif len(text) > NOTE_MAX_LENGTH:
        errors[key] = f"{label}不能超过{NOTE_MAX_LENGTH}个字符"
    return text


def _check_day(
    day: datetime.date | None,
    label: str,
    person: Person | None,
    errors: dict[str, str],
    key: str,
    *,
    after_death: str,
) -> None:
    """A date a caseworker records: given, within 1900–2099, not later than today, not before the person's
    birth nor (where `after_death` says what) after their death."""
    if day is None:
        errors[key] = f"请填写{label}"
    elif problem := date_problem(day):
        errors[key] = problem
    elif day > _today():
        errors[key] = f"{label}不能晚于今天"
    elif person is not None and day < person.birth_date:
        errors[key] = f"{label}不能早于出生日期（{_cn(person.birth_date)}）"
    elif person is not None and person.death_date is not None and day > person.death_date:
        errors[key] = f"该人员已于{_cn(person.death_date)}死亡，{after_death}"


# ---------------------------------------------------------------------------------------------------
# Facts: services
# ---------------------------------------------------------------------------------------------------


def _kind_error(kind: str, subject: Subject) -> str | None:
    if kind not in FactKind.values:
        return "请选择登记信息类别"
    label = FactKind(kind).label
    if isinstance(subject, Person) and kind in HOUSEHOLD_FACT_KINDS:
        return f"“{label}”是家庭的登记信息，请在家庭页面登记"
    if isinstance(subject, Household) and kind in PERSON_FACT_KINDS:
        return f"“{label}”是人员的登记信息，请在该成员的页面登记"
    return None


def _value_error(kind: str, value: str) -> str | None:
    values = FACT_VALUES.get(kind)
    if values is None:
        return f"“{FactKind(kind).label}”没有类别可选，请不要填写" if value else None
    if value not in values.values:
        return (
            f"请选择{FactKind(kind).label}的类别"
            if not value
            else f"“{value}”不是{FactKind(kind).label}的类别"
        )
    return None


@transaction.atomic
def fact_record(
    *,
    subject: Subject,
    kind: str,
    valid_from: datetime.date | None,
    source: str,
    actor,
    value: str = "",
    note: str = "",
) -> PersonFact:
    """Record that `kind` (with `value`, where the kind has values) holds for the person or household
    from `valid_from`. The open fact of the kind, if any, is closed the day before.

    Refused with a Chinese error, nothing saved: an unknown kind or value, a household kind on a person
    or the reverse, a start later than today or not after the open fact's start, a start inside an
    earlier (closed) record, the same value again, a subject outside the actor's scope (PermissionDenied)."""
    value = (value or "").strip()
    subject_filter = _subject_filter(subject)
    subject = _lock(subject)
    services._require_scope(actor, subject.region_code)
    person = subject if isinstance(subject, Person) else None
    errors: dict[str, str] = {}
    kind_error = _kind_error(kind, subject)
    if kind_error:
        errors["kind"] = kind_error
    elif value_error := _value_error(kind, value):
        errors["value"] = value_error
    if source not in FactSource.values:
        errors["source"] = "请选择信息来源"
    note = _text(note, "说明", errors, "note")
    _check_day(valid_from, "起始日期", person, errors, "valid_from", after_death="不能登记死亡之后的信息")
    if errors:
        raise ValidationError(errors)

    label = FactKind(kind).label
    existing = list(PersonFact.objects.filter(kind=kind, **subject_filter).order_by("valid_from"))
    current = next((fact for fact in existing if fact.valid_to is None), None)
    if current is not None and current.value == value:
        raise ValidationError(
            {"kind": f"“{current.label}”已自{_cn(current.valid_from)}起登记且仍然有效，无需重复登记"}
        )
    if current is not None and valid_from <= current.valid_from:
        raise ValidationError(
            {
                "valid_from": f"起始日期须晚于现有“{current.label}”的起始日期（{_cn(current.valid_from)}）："
                "新的情况从起始日期起取代现有情况，不能改写已登记的过去"
            }
        )
    overlapped = [fact for fact in existing if fact.valid_to is not None and fact.valid_to >= valid_from]
    if overlapped:
        last = overlapped[-1]
        raise ValidationError(
            {
                "valid_from": f"与已登记的“{last.label}”（{_cn(last.valid_from)}至{_cn(last.valid_to)}）"
                f"重叠，起始日期须晚于{_cn(last.valid_to)}"
            }
        )
    if current is not None:
        current.valid_to = valid_from - ONE_DAY
        current.ended_by = actor
        current.ended_at = timezone.now()
        current.end_reason = f"变更为“{PersonFact(kind=kind, value=value).label}”"
        current.save(update_fields=["valid_to", "ended_by", "ended_at", "end_reason"])
    fact = PersonFact(
        kind=kind,
        value=value,
        valid_from=valid_from,
        source=source,
        note=note,
        region_code=subject.region_code,
        recorded_by=actor,
        **subject_filter,
    )
    try:
        # A writer that skipped the subject's lock may have opened the same kind a moment ago: the
        # conditional unique index refuses the second open row. A savepoint keeps the transaction usable.
        with transaction.atomic():
            fact.save()
    except IntegrityError as error:
        if not violated(
            error, PersonFact, "one_open_fact_per_person_kind", "one_open_fact_per_household_kind"
        ):
            raise
        raise ValidationError({"kind": f"“{label}”刚被他人登记，请刷新页面核对后再提交"}) from None
    return fact


@transaction.atomic
def fact_end(
    *, subject: Subject, kind: str, valid_to: datetime.date | None, actor, reason: str = ""
) -> PersonFact:
    """End the open fact of `kind`: `valid_to` is the last day it held (not later than today, not before
    its start). The row stays; only its closing date, who ended it and why are written."""
    subject_filter = _subject_filter(subject)
    subject = _lock(subject)
    services._require_scope(actor, subject.region_code)
    errors: dict[str, str] = {}
    kind_error = _kind_error(kind, subject)
    if kind_error:
        raise ValidationError({"kind": kind_error})
    current = PersonFact.objects.filter(kind=kind, valid_to__isnull=True, **subject_filter).first()
    if current is None:
        raise ValidationError({"kind": f"“{FactKind(kind).label}”没有仍然有效的登记，无需结束"})
    reason = _text(reason, "结束原因", errors, "reason")
    if valid_to is None:
        errors["valid_to"] = "请填写截止日期"
    elif problem := date_problem(valid_to):
        errors["valid_to"] = problem
    elif valid_to > _today():
        errors["valid_to"] = "截止日期不能晚于今天"
    elif valid_to < current.valid_from:
        errors["valid_to"] = f"截止日期不能早于起始日期（{_cn(current.valid_from)}）"
    elif isinstance(subject, Person) and subject.death_date and valid_to > subject.death_date:
        errors["valid_to"] = f"截止日期不能晚于该人员的死亡日期（{_cn(subject.death_date)}）"
    if errors:
        raise ValidationError(errors)
    current.valid_to = valid_to
    current.ended_by = actor
    current.ended_at = timezone.now()
    current.end_reason = reason
    current.save(update_fields=["valid_to", "ended_by", "ended_at", "end_reason"])
    return current


# ---------------------------------------------------------------------------------------------------
# Assessments: services
# ---------------------------------------------------------------------------------------------------


def default_valid_until(assessed_on: datetime.date) -> datetime.date:
    """One year: the day before the anniversary (assessed 2025-03-01 → valid to 2026-02-28; assessed on
    29 February → to 28 February of the next year). GB/T 42195-2022: re-assessed yearly or on change."""
    try:
        anniversary = assessed_on.replace(year=assessed_on.year + 1)
    except ValueError:  # 29 February
        anniversary = datetime.date(assessed_on.year + 1, 3, 1)
    return anniversary - ONE_DAY


@transaction.atomic
def assessment_record(
    *,
    person: Person,
    kind: str,
    level: str,
    assessor: str,
    assessor_org: str,
    assessed_on: datetime.date | None,
    actor,
    valid_until: datetime.date | None = None,
    note: str = "",
) -> Assessment:
    """Record an assessment; it supersedes the person's earlier one of the kind from `assessed_on`.

    `valid_until` defaults to one year (default_valid_until) and may be shorter, never longer. A 特困
    care-tier assessment that is the one in force today also sets Person.self_care (the value the benefit
    engine reads) through services.person_update, in this transaction and with the person's history."""
    person = _lock(person)
    services._require_scope(actor, person.region_code)
    errors: dict[str, str] = {}
    if kind not in AssessmentKind.values:
        errors["kind"] = "请选择评估类别"
    elif level not in ASSESSMENT_LEVELS[kind].values:
        errors["level"] = f"请选择{AssessmentKind(kind).label}的等级"
    assessor = _text(assessor, "评估人员", errors, "assessor", required=True)
    assessor_org = _text(assessor_org, "评估机构", errors, "assessor_org", required=True)
    note = _text(note, "说明", errors, "note")
    _check_day(assessed_on, "评估日期", person, errors, "assessed_on", after_death="不能登记死亡之后的评估")
    if "assessed_on" not in errors:
        longest = default_valid_until(assessed_on)
        if valid_until is None:
            valid_until = longest
        elif problem := date_problem(valid_until):
            errors["valid_until"] = problem
        elif valid_until < assessed_on:
            errors["valid_until"] = "有效期不能早于评估日期"
        elif valid_until > longest:
            errors["valid_until"] = f"评估有效期最长一年（至{_cn(longest)}）"
        if (
            "kind" not in errors
            and Assessment.objects.filter(person=person, kind=kind, assessed_on=assessed_on).exists()
        ):
            errors["assessed_on"] = (
                f"该人员{_cn(assessed_on)}已有一次{AssessmentKind(kind).label}，同一天不能重复登记"
            )
    if errors:
        raise ValidationError(errors)
    assessment = Assessment(
        person=person,
        kind=kind,
        level=level,
        assessor=assessor,
        assessor_org=assessor_org,
        assessed_on=assessed_on,
        valid_until=valid_until,
        note=note,
        region_code=person.region_code,
        recorded_by=actor,
    )
    try:
        with transaction.atomic():
            assessment.save()
    except IntegrityError as error:
        if not violated(error, Assessment, "one_assessment_per_person_kind_day"):
            raise
        raise ValidationError(
            {
                "assessed_on": f"该人员{_cn(assessed_on)}已有一次{AssessmentKind(kind).label}，同一天不能重复登记"
            }
        ) from None
    if kind == AssessmentKind.TEKUN_SELF_CARE:
        _sync_self_care(person, assessment, actor)
    return assessment


def _sync_self_care(person: Person, assessment: Assessment, actor) -> None:
    """Person.self_care follows the 特困 assessment in force today (a backdated one that a later one has
    superseded, or one already expired, leaves it alone)."""
    in_force = latest_assessment(person, AssessmentKind.TEKUN_SELF_CARE, _today())
    if in_force is None or in_force.pk != assessment.pk or person.self_care == assessment.level:
        return
    try:
        services.person_update(person=person, data={"self_care": assessment.level}, actor=actor)
    except ValidationError as exc:
        problems = "；".join(m for messages in exc.message_dict.values() for m in messages)
        raise ValidationError(
            {"level": f"无法同步该人员的自理能力：{problems}。请先在“修改人员信息”中补正"}
        ) from None


# ---------------------------------------------------------------------------------------------------
# Selectors
# ---------------------------------------------------------------------------------------------------


def holding_on(day: datetime.date, prefix: str = "") -> Q:
    """The facts that hold on `day` (valid_from ≤ day ≤ valid_to, an open fact holds until ended)."""
    return Q(**{f"{prefix}valid_from__lte": day}) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gte": day})
    )


def facts_on(subject: Subject, day: datetime.date) -> QuerySet[PersonFact]:
    """The facts about one person or household that held on `day` (the subject was read in the user's
    scope by the caller)."""
    return PersonFact.objects.filter(holding_on(day), **_subject_filter(subject)).order_by("kind")


def open_facts(subject: Subject) -> QuerySet[PersonFact]:
    """The subject's facts not yet ended (one per kind), which 结束登记 offers."""
    return PersonFact.objects.filter(valid_to__isnull=True, **_subject_filter(subject)).order_by("kind")


def persons_with_fact(user, kind: str, day: datetime.date, *, value: str = "") -> QuerySet[Person]:
    """The persons in the user's scope of whom `kind` (with `value`, if given) held on `day`, alive that
    day. For a household kind, the members of a household that had it, by their membership on that day
    (the day of a move counts for the new household). One query."""
    if kind not in FactKind.values:
        raise ValueError(f"unknown fact kind {kind!r}")
    facts = PersonFact.objects.filter(holding_on(day), kind=kind)
    if value:
        facts = facts.filter(value=value)
    if kind in PERSON_FACT_KINDS:
        condition = Exists(facts.filter(person=OuterRef("pk")))
    else:
        memberships = Membership.objects.filter(person=OuterRef("pk"), joined_on__lte=day).filter(
            Q(left_on__isnull=True) | Q(left_on__gt=day)
        )
        condition = Exists(memberships.filter(Exists(facts.filter(household=OuterRef("household")))))
    return (
        Person.objects.visible_to(user)
        .filter(Q(death_date__isnull=True) | Q(death_date__gte=day))
        .filter(condition)
    )


def latest_assessment(person: Person, kind: str, day: datetime.date) -> Assessment | None:
    """The assessment in force on `day`: the latest one made on or before it (a re-assessment supersedes
    the earlier one from its date), if it is still valid that day. An older assessment whose period runs
    longer does not come back when a newer one expires."""
    latest = (
        Assessment.objects.filter(person=person, kind=kind, assessed_on__lte=day)
        .order_by("-assessed_on", "-pk")
        .first()
    )
    return latest if latest is not None and latest.valid_until >= day else None


def assessment_level_on(person: Person, kind: str, day: datetime.date) -> str | None:
    """The level in force on `day` (latest_assessment), or None: none yet, or the latest has expired."""
    in_force = latest_assessment(person, kind, day)
    return in_force.level if in_force is not None else None


def _latest_distinct_on(rows: QuerySet[Assessment]) -> QuerySet:
    # PostgreSQL: one index scan of (person, kind, assessed_on) keeping the first row per person.
    return rows.order_by("person_id", "-assessed_on", "-pk").distinct("person_id")


def _latest_by_window(rows: QuerySet[Assessment]) -> QuerySet:
    # Any backend with window functions (SQLite ≥ 3.25 for `make run`): the first row per person.
    ranked = rows.annotate(
        rank=Window(
            RowNumber(), partition_by=[F("person_id")], order_by=[F("assessed_on").desc(), F("pk").desc()]
        )
    )
    return ranked.filter(rank=1)


def assessment_levels_on(
    persons: QuerySet[Person] | Iterable[Person | int], kind: str, day: datetime.date
) -> dict[int, str]:
    """assessment_level_on for many persons at once, in one query: {person id: level} of those with a
    level in force on `day` (absent = None). `persons` may be a queryset (it becomes a subquery), persons
    or ids; the caller scopes them (persons_with_fact(user, …), Person.objects.visible_to(user))."""
    if not isinstance(persons, QuerySet):
        persons = [p.pk if isinstance(p, Person) else p for p in persons]
    rows = Assessment.objects.filter(person__in=persons, kind=kind, assessed_on__lte=day)
    latest = _latest_distinct_on(rows) if connection.vendor == "postgresql" else _latest_by_window(rows)
    return {
        person_id: level
        for person_id, level, valid_until in latest.values_list("person_id", "level", "valid_until")
        if valid_until >= day
    }


# ---------------------------------------------------------------------------------------------------
# The card 「登记信息（有效期）」 on the person and household pages
# ---------------------------------------------------------------------------------------------------


@dataclass
class AssessmentStatus:
    kind: str
    label: str
    latest: Assessment | None
    in_force: bool


@dataclass
class FactCard:
    today: datetime.date
    current: list[PersonFact]
    history: list[PersonFact]
    household_facts: list[PersonFact] = field(default_factory=list)
    member_facts: list[PersonFact] = field(default_factory=list)
    assessments: list[AssessmentStatus] = field(default_factory=list)
    assessment_history: list[Assessment] = field(default_factory=list)

    @property
    def open_facts(self) -> list[PersonFact]:
        return [fact for fact in self.history if fact.valid_to is None]

    @property
    def history_count(self) -> int:
        return len(self.history) + len(self.assessment_history)


def _facts(**subject) -> list[PersonFact]:
    return list(
        PersonFact.objects.filter(**subject)
        .select_related("recorded_by", "ended_by")
        .order_by("kind", "-valid_from", "-pk")
    )


def person_fact_card(person: Person, *, day: datetime.date | None = None) -> FactCard:
    """The person's facts and assessments (three queries): those holding today, and all rows with dates."""
    today = day or _today()
    history = _facts(person=person)
    household_facts = []
    if person.household_id is not None:
        household_facts = list(facts_on(person.household, today).select_related("household"))
    assessments = list(
        Assessment.objects.filter(person=person)
        .select_related("recorded_by")
        .order_by("kind", "-assessed_on", "-pk")
    )
    statuses = []
    for kind, label in AssessmentKind.choices:
        made = [a for a in assessments if a.kind == kind and a.assessed_on <= today]
        latest = made[0] if made else None
        statuses.append(
            AssessmentStatus(kind, label, latest, latest is not None and latest.valid_until >= today)
        )
    return FactCard(
        today=today,
        current=[fact for fact in history if fact.holds_on(today)],
        history=history,
        household_facts=household_facts,
        assessments=statuses,
        assessment_history=assessments,
    )


def household_fact_card(household: Household, *, day: datetime.date | None = None) -> FactCard:
    """The household's facts (current and all rows) and the facts holding today of its living members (two
    queries)."""
    today = day or _today()
    history = _facts(household=household)
    member_facts = list(
        PersonFact.objects.filter(
            holding_on(today), person__household=household, person__death_date__isnull=True
        )
        .select_related("person")
        .order_by("person_id", "kind")
    )
    return FactCard(
        today=today,
        current=[fact for fact in history if fact.holds_on(today)],
        history=history,
        member_facts=member_facts,
    )
