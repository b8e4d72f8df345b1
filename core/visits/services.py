"""Every write of 探访关爱: enrol (confirm suggestions or by hand), dismiss a suggestion, leave, record a
visit, close a follow-up. Each is atomic, refuses bad input with a Chinese ValidationError and saves
nothing then; a record outside the actor's scope is a PermissionDenied (views answer 404 before)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.accounts.sections import section_name
from core.benefits.exceptions import ParameterNotFound
from core.benefits.selectors import parameter_value
from core.constraints import violated
from core.registry.models import Person
from core.registry.querysets import user_scope_prefix
from core.registry.text import visible_text
from core.validation import date_problem, has_control_characters

from .models import Enrollment, Need, SuggestionDismissal, Visit, VisitEnrollment, VisitWay
from .programmes import Programme, RiskLevel, due_after, find_programme, interval_key
from .selectors import visible_programme_codes

REASON_MAX = 200
FINDINGS_MAX = 2000
FOLLOW_UP_MAX = 500


def _cn(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _text(
    value, label: str, errors: dict, key: str, *, max_length: int, required=False, multiline=False
) -> str:
    raw = "" if value is None else str(value)
    text, problem = visible_text(raw, label)
    text = text.strip()
    if has_control_characters(raw, multiline=multiline):
        errors[key] = f"{label}含有无效字符（控制字符）"
    elif problem:
        errors[key] = problem
    elif required and not text:
        errors[key] = f"请填写{label}"
    elif len(text) > max_length:
        errors[key] = f"{label}不能超过{max_length}个字符"
    return text


def _day(value, label: str, errors: dict, key: str, *, not_after_today=True) -> datetime.date | None:
    if value is None:
        errors[key] = f"请填写{label}"
    elif problem := date_problem(value):
        errors[key] = problem
    elif not_after_today and value > timezone.localdate():
        errors[key] = f"{label}不能晚于今天"
    return value


def _require(actor, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied("您没有该操作的权限")


def _in_scope(actor, region_code: str) -> bool:
    prefix = user_scope_prefix(actor)
    return prefix is not None and region_code.startswith(prefix)


def may_act_on(actor, programme: Programme) -> bool:
    codes = visible_programme_codes(actor)
    return codes is None or programme.code in codes


def _programme(code: str, actor) -> Programme:
    programme = find_programme(code or "")
    if programme is None:
        raise ValidationError({"programme": "未知的探访关爱项目，请从列表中选择"})
    if not may_act_on(actor, programme):
        raise PermissionDenied(f"您不在{section_name(programme.section)}工作，不能办理该探访项目")
    return programme


def interval_months(programme_code: str, risk: str, day: datetime.date) -> Decimal:
    """The visit interval (months) of the programme for the risk level, in force on `day`."""
    try:
        value = parameter_value(interval_key(programme_code, risk), day)
    except ParameterNotFound as error:
        raise ValidationError(str(error)) from None
    if value <= 0:
        raise ValidationError(
            f"业务参数「{interval_key(programme_code, risk)}」须大于0，请在系统管理中更正。"
        )
    return value


def first_due(enrollment: Enrollment) -> datetime.date:
    programme = find_programme(enrollment.programme)
    risk = programme.first_visit_risk if programme else RiskLevel.LOW
    return due_after(enrollment.joined_on, interval_months(enrollment.programme, risk, enrollment.joined_on))


def _lock_persons(actor, ids: Sequence[int]) -> list[Person]:
    """The persons, locked in id order (so two writers never wait on each other crosswise), all in scope."""
    persons = list(Person.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    if len(persons) != len(set(ids)) or not all(_in_scope(actor, p.region_code) for p in persons):
        raise PermissionDenied("所选人员不在您的管辖范围内")
    return persons


# --- enrolment ------------------------------------------------------------------------------------------


@transaction.atomic
def enrollment_create(
    *,
    persons: Iterable[Person | int],
    programme_code: str,
    joined_on: datetime.date | None,
    actor,
    reason: str = "",
) -> list[Enrollment]:
    """Enrol the persons in the programme from `joined_on`: confirming the rule's suggestions (`reason`
    empty: the programme's rule text is recorded) or by hand (`reason` says why, e.g. 孤儿, 留守儿童 —
    facts the registry does not hold yet). All or nothing: a person already in the programme, dead or
    not yet born on `joined_on` refuses the whole batch, naming them."""
    _require(actor, "visits.add_enrollment")
    errors: dict[str, str] = {}
    programme = _programme(programme_code, actor)
    reason = _text(reason, "纳入原因", errors, "reason", max_length=REASON_MAX)
    joined_on = _day(joined_on, "纳入日期", errors, "joined_on")
    ids = sorted({p.pk if isinstance(p, Person) else int(p) for p in persons})
    if not ids:
        errors["persons"] = "请至少选择一名人员"
    if errors:
        raise ValidationError(errors)
    locked = _lock_persons(actor, ids)
    problems = []
    for person in locked:
        if person.death_date is not None and person.death_date <= joined_on:
            problems.append(f"{person.name}已于{_cn(person.death_date)}死亡")
        elif person.birth_date > joined_on:
            problems.append(f"{person.name}在纳入日期尚未出生")
    already = dict(
        Enrollment.objects.filter(
            person__in=locked, programme=programme.code, left_on__isnull=True
        ).values_list("person_id", "joined_on")
    )
    for person in locked:
        if person.pk in already:
            problems.append(f"{person.name}已于{_cn(already[person.pk])}纳入{programme.title}")
    if problems:
        raise ValidationError({"persons": "；".join(problems) + "。本次未纳入任何人员，请核对后重新提交"})
    rule_text = f"手工纳入：{reason}" if reason else programme.rule_text
    interval = interval_months(programme.code, programme.first_visit_risk, joined_on)
    due = due_after(joined_on, interval)
    rows = [
        Enrollment(
            person=person,
            programme=programme.code,
            joined_on=joined_on,
            rule_text=rule_text[:300],
            confirmed_by=actor,
            region_code=person.region_code,
            next_due_on=due,
        )
        for person in locked
    ]
    try:
        # A writer that skipped the persons' locks may have enrolled one a moment ago: the conditional
        # unique index refuses the second open row; the savepoint keeps the transaction usable.
        with transaction.atomic():
            created = Enrollment.objects.bulk_create(rows)
    except IntegrityError as error:
        if not violated(error, Enrollment, "one_open_enrollment_per_programme"):
            raise
        raise ValidationError({"persons": "所选人员刚被他人纳入该项目，请刷新页面核对后再提交"}) from None
    # bulk_create returns primary keys on PostgreSQL and SQLite ≥ 3.35; read them back otherwise.
    if any(row.pk is None for row in created):
        created = list(
            Enrollment.objects.filter(person__in=locked, programme=programme.code, left_on__isnull=True)
        )
    return created


@transaction.atomic
def suggestion_dismiss(*, persons: Iterable[Person | int], programme_code: str, reason: str, actor) -> int:
    """Record that the suggested persons are not to join the programme (the reason is required); they leave
    the suggestion list. Returns how many were newly dismissed."""
    _require(actor, "visits.add_enrollment")
    errors: dict[str, str] = {}
    programme = _programme(programme_code, actor)
    reason = _text(reason, "不纳入原因", errors, "reason", max_length=REASON_MAX, required=True)
    ids = sorted({p.pk if isinstance(p, Person) else int(p) for p in persons})
    if not ids:
        errors["persons"] = "请至少选择一名人员"
    if errors:
        raise ValidationError(errors)
    locked = _lock_persons(actor, ids)
    done = set(
        SuggestionDismissal.objects.filter(person__in=locked, programme=programme.code).values_list(
            "person_id", flat=True
        )
    )
    rows = [
        SuggestionDismissal(
            person=p, programme=programme.code, reason=reason, dismissed_by=actor, region_code=p.region_code
        )
        for p in locked
        if p.pk not in done
    ]
    SuggestionDismissal.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


@transaction.atomic
def enrollment_leave(
    *, enrollment: Enrollment, left_on: datetime.date | None, reason: str, actor
) -> Enrollment:
    """End an enrolment: `left_on` is its last day (not before its start or its latest visit, not later
    than today); the reason is required. The row stays."""
    _require(actor, "visits.change_enrollment")
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if not _in_scope(actor, enrollment.region_code):
        raise PermissionDenied("该记录不在您的管辖范围内")
    _programme(enrollment.programme, actor)
    errors: dict[str, str] = {}
    if not enrollment.is_open:
        raise ValidationError({"left_on": f"该人员已于{_cn(enrollment.left_on)}退出该项目"})
    reason = _text(reason, "退出原因", errors, "reason", max_length=REASON_MAX, required=True)
    left_on = _day(left_on, "退出日期", errors, "left_on")
    if "left_on" not in errors:
        if left_on < enrollment.joined_on:
            errors["left_on"] = f"退出日期不能早于纳入日期（{_cn(enrollment.joined_on)}）"
        elif enrollment.last_visited_on and left_on < enrollment.last_visited_on:
            errors["left_on"] = f"退出日期不能早于最近一次探访（{_cn(enrollment.last_visited_on)}）"
    if errors:
        raise ValidationError(errors)
    enrollment.left_on = left_on
    enrollment.leave_reason = reason
    enrollment.left_by = actor
    enrollment.save(update_fields=["left_on", "leave_reason", "left_by"])
    return enrollment


# --- visits ---------------------------------------------------------------------------------------------


def visitor_candidates(person: Person) -> QuerySet:
    """The active users who may be named as visitors of the person: those who record visits (not the
    system administrator or the bureau's leaders) of the person's community, street and district (and
    above) — whoever's region holds the person."""
    code = person.region_code
    codes = {code, code[:9] + "000", code[:6] + "000000", code[:4] + "00000000", code[:2] + "0000000000"}
    records = Permission.objects.filter(content_type__app_label="visits", codename="add_visit")
    return (
        get_user_model()
        .objects.filter(is_active=True, region__code__in=codes)
        .filter(Q(groups__permissions__in=records) | Q(user_permissions__in=records))
        .distinct()
        .order_by("username")
    )


def _refresh_due(enrollments: Iterable[Enrollment]) -> None:
    """Each enrolment's latest visit (by visit date, the later record on a tie), its risk level and the
    next due day: that visit + the interval for its risk level in force on its date (or, with no visit
    yet, joined_on + the first-visit interval). A visit recorded late with an earlier date does not move
    the due day back."""
    for enrollment in enrollments:
        latest = (
            VisitEnrollment.objects.filter(enrollment=enrollment)
            .order_by("-visited_on", "-visit_id")
            .values("visited_on", "visit__risk_level")
            .first()
        )
        if latest is None:
            enrollment.last_visited_on, enrollment.last_risk_level = None, ""
            enrollment.next_due_on = first_due(enrollment)
        else:
            enrollment.last_visited_on = latest["visited_on"]
            enrollment.last_risk_level = latest["visit__risk_level"]
            interval = interval_months(
                enrollment.programme, enrollment.last_risk_level, enrollment.last_visited_on
            )
            enrollment.next_due_on = due_after(enrollment.last_visited_on, interval)
        # A person who moved is visited by the new community: the enrolment follows them.
        enrollment.region_code = enrollment.person.region_code or enrollment.region_code
        enrollment.save(update_fields=["last_visited_on", "last_risk_level", "next_due_on", "region_code"])


@transaction.atomic
def visit_record(
    *,
    person: Person,
    visited_on: datetime.date | None,
    way: str,
    findings: str,
    risk_level: str,
    actor,
    visitors: Sequence | None = None,
    needs: Sequence[str] = (),
    needs_other: str = "",
    follow_up: str = "",
    follow_up_due: datetime.date | None = None,
) -> Visit:
    """Record a visit. It serves every enrolment of the person open on `visited_on` (one link each, so it
    counts once in each programme), and moves each one's next due day. Refused, nothing saved: a date in
    the future or before birth or after death, no open enrolment that day (or none of the actor's
    sections), an unknown way, risk level or need, 其他 without saying what, a follow-up date without a
    follow-up or before the visit, a visitor who may not visit this person, no findings."""
    _require(actor, "visits.add_visit")
    person = _lock_persons(actor, [person.pk])[0]
    errors: dict[str, str] = {}
    visited_on = _day(visited_on, "探访日期", errors, "visited_on")
    if "visited_on" not in errors:
        if visited_on < person.birth_date:
            errors["visited_on"] = "探访日期不能早于出生日期"
        elif person.death_date is not None and visited_on > person.death_date:
            errors["visited_on"] = f"该人员已于{_cn(person.death_date)}死亡，不能登记其后的探访"
    if way not in VisitWay.values:
        errors["way"] = "请选择探访方式"
    if risk_level not in RiskLevel.values:
        errors["risk_level"] = "请选择风险等级"
    needs = list(dict.fromkeys(needs or []))
    if any(code not in Need.values for code in needs):
        errors["needs"] = "请从列表中选择发现的需求"
    findings = _text(
        findings, "探访情况", errors, "findings", max_length=FINDINGS_MAX, required=True, multiline=True
    )
    needs_other = _text(needs_other, "其他需求", errors, "needs_other", max_length=REASON_MAX)
    if Need.OTHER in needs and not needs_other and "needs_other" not in errors:
        errors["needs_other"] = "选择了“其他”需求，请写明具体内容"
    if needs_other and Need.OTHER not in needs:
        needs.append(Need.OTHER.value)
    follow_up = _text(follow_up, "跟进事项", errors, "follow_up", max_length=FOLLOW_UP_MAX, multiline=True)
    if follow_up_due is not None:
        if problem := date_problem(follow_up_due):
            errors["follow_up_due"] = problem
        elif not follow_up:
            errors["follow_up_due"] = "填写了跟进期限，请同时填写跟进事项"
        elif "visited_on" not in errors and follow_up_due < visited_on:
            errors["follow_up_due"] = "跟进期限不能早于探访日期"
    elif follow_up and "follow_up" not in errors:
        errors["follow_up_due"] = "请填写跟进期限"
    candidates = visitor_candidates(person)
    visitor_ids = {v.pk if hasattr(v, "pk") else int(v) for v in (visitors or [])} or {actor.pk}
    allowed = set(candidates.filter(pk__in=visitor_ids).values_list("pk", flat=True))
    if allowed != visitor_ids:
        errors["visitors"] = "探访人员须为该人员所在社区、街道或区的在职工作人员"
    enrollments: list[Enrollment] = []
    if "visited_on" not in errors:
        enrollments = list(
            Enrollment.objects.select_for_update()
            .filter(person=person)
            .open_on(visited_on)
            .select_related("person")
            .order_by("pk")
        )
        codes = visible_programme_codes(actor)
        if not enrollments:
            errors["visited_on"] = f"该人员在{_cn(visited_on)}没有参加任何探访关爱项目，请先纳入项目"
        elif codes is not None and not any(e.programme in codes for e in enrollments):
            errors["visited_on"] = "该人员参加的探访项目不属于您所在的科室"
    if errors:
        raise ValidationError(errors)
    visit = Visit.objects.create(
        person=person,
        visited_on=visited_on,
        way=way,
        findings=findings,
        risk_level=risk_level,
        needs=needs,
        needs_other=needs_other,
        follow_up=follow_up,
        follow_up_due=follow_up_due,
        region_code=person.region_code,
        recorded_by=actor,
    )
    visit.visitors.set(sorted(visitor_ids))
    VisitEnrollment.objects.bulk_create(
        [
            VisitEnrollment(
                visit=visit,
                enrollment=e,
                programme=e.programme,
                visited_on=visited_on,
                region_code=person.region_code,
            )
            for e in enrollments
        ]
    )
    _refresh_due(enrollments)
    return visit


@transaction.atomic
def visit_follow_up_done(*, visit: Visit, done_on: datetime.date | None, result: str, actor) -> Visit:
    """Close a visit's follow-up: the day it was done (not before the visit, not later than today) and
    what was done."""
    _require(actor, "visits.change_visit")
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    if not Visit.objects.visible_to(actor).filter(pk=visit.pk).exists():
        raise PermissionDenied("该记录不在您的管辖范围内")
    errors: dict[str, str] = {}
    if not visit.follow_up:
        raise ValidationError({"done_on": "该次探访没有跟进事项"})
    if visit.follow_up_done_on is not None:
        raise ValidationError({"done_on": f"该跟进事项已于{_cn(visit.follow_up_done_on)}办结"})
    result = _text(
        result, "跟进结果", errors, "result", max_length=FOLLOW_UP_MAX, required=True, multiline=True
    )
    done_on = _day(done_on, "完成日期", errors, "done_on")
    if "done_on" not in errors and done_on < visit.visited_on:
        errors["done_on"] = f"完成日期不能早于探访日期（{_cn(visit.visited_on)}）"
    if errors:
        raise ValidationError(errors)
    visit.follow_up_done_on = done_on
    visit.follow_up_done_by = actor
    visit.follow_up_result = result
    visit.save(update_fields=["follow_up_done_on", "follow_up_done_by", "follow_up_result"])
    return visit


def enrollments_end_for_death(event, actor) -> int:
    """Life-event subscriber (kind "death"): the person's open enrolments end on the day of death (or the
    day they joined, for a death recorded with an earlier date), so the person leaves the due and overdue
    lists and counts as enrolled in no later month. Runs inside the registry's transaction."""
    ended = 0
    for enrollment in Enrollment.objects.select_for_update().filter(
        person_id=event.person_id, left_on__isnull=True
    ):
        enrollment.left_on = max(event.event_date, enrollment.joined_on)
        enrollment.leave_reason = "死亡"
        enrollment.left_by = actor
        enrollment.save(update_fields=["left_on", "leave_reason", "left_by"])
        ended += 1
    return ended
