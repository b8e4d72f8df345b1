"""Every write of a 特困 person's life after approval (民发〔2021〕43号; issue 13 item 9): one keyword-only,
atomic function per action.

- A change of self-care (reported, or a registry 特困 self-care assessment that disagrees with the tier
  paid) opens a re-assessment to-do due within `tekun.reassess_working_days` working days; recording the
  six items decides the care tier from the next month (the care entitlement's dated params["tiers"], read
  by assistance.calculators.TekunCareCalculator — the approval's tier is never edited).
- Every supported person is reviewed yearly (`tekun.review_months`): the due list is set-based and the
  scheduler opens one to-do per person, due on the review date.
- A minor supported as 特困 is re-judged when reaching `tekun.minor_age` (16: no longer "unable to work"
  by age) and `tekun.minor_until_age` (18): continue (to 18; after 18 only while in school, with proof,
  for at most `tekun.school_continue_months`) or terminate.
- 终止救助供养 by decision for a reason of the fixed list, ending both entitlements before the month named.
- 照料服务协议 of 分散供养.

Errors are Chinese: `ValidationError` for bad input (keyed by form field), `TransitionError` for a refused
action (permission, scope, state)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from core.accounts.templatetags.ui import cn_date, cn_month
from core.benefits.exceptions import BenefitsError
from core.benefits.models import BenefitType, Entitlement
from core.benefits.months import add_months, month_start
from core.benefits.selectors import parameter_value, standard_in_force
from core.benefits.services import entitlement_end, entitlement_update_params
from core.constraints import violated
from core.registry.choices import AssessmentKind, SelfCare
from core.registry.facts import assessment_levels_on
from core.workflow.calendar import add_working_days
from core.workflow.services import TransitionError, case_log_action, reserve_case_numbers

from .. import rules
from ..calculators import tekun_care_tiers
from ..models import (
    SupportMode,
    TekunApplication,
    TekunCareAgreement,
    TekunTask,
    TekunTaskKind,
    TekunTaskOutcome,
    TekunTermination,
    TekunTerminationReason,
)
from ..review.rules import add_months_to_date
from .services import BASIC_BENEFIT_CODE, CARE_BENEFIT_CODE, care_warning

P_REASSESS_DAYS = "tekun.reassess_working_days"
P_REJUDGE_DAYS = "tekun.rejudge_working_days"
P_MINOR_UNTIL_AGE = "tekun.minor_until_age"
P_SCHOOL_MONTHS = "tekun.school_continue_months"
P_REVIEW_MONTHS = "tekun.review_months"
P_REVIEW_LEAD_DAYS = "tekun.review_lead_days"

TERMINATION_PREFIX = "TKZZ"
# The registry's 特困 self-care levels (Person.self_care values) → the care tiers of the standards.
LEVEL_TIER = {
    SelfCare.FULL: rules.TIER_FULL_SELF_CARE,
    SelfCare.PARTIAL: rules.TIER_PARTIAL_CARE,
    SelfCare.NONE: rules.TIER_FULL_CARE,
}
ACT_PERMISSION = "workflow.add_case"
DECIDE_PERMISSION = "workflow.approve_case"
PHONE = re.compile(r"^[0-9+\-（）() ]{5,20}$")


def int_parameter(key: str, on_date: datetime.date) -> int:
    try:
        return int(parameter_value(key, on_date))
    except BenefitsError as exc:
        raise TransitionError(f"业务参数「{key}」未设置：{exc}") from None


def _today() -> datetime.date:
    return timezone.localdate()


def _require(actor, permission: str, what: str) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(permission):
        raise TransitionError(f"您没有{what}的权限")


def _text(value, label: str, errors: dict, key: str, *, limit: int, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        errors[key] = f"请填写{label}"
    elif len(text) > limit:
        errors[key] = f"{label}不超过{limit}字"
    return text


# ---------------------------------------------------------------------------------------------------
# Who is supported
# ---------------------------------------------------------------------------------------------------


def supported(on_date: datetime.date) -> QuerySet[TekunApplication]:
    """The approved 特困 applications whose basic living fee is in force in the month of `on_date` or
    granted from a coming month (not ended, not terminated)."""
    month = month_start(on_date)
    return TekunApplication.objects.filter(
        approved=True,
        basic_entitlement__isnull=False,
        basic_entitlement__status__in=[Entitlement.Status.ACTIVE, Entitlement.Status.SUSPENDED],
    ).filter(Q(basic_entitlement__end_month__isnull=True) | Q(basic_entitlement__end_month__gte=month))


def _open_tasks(kind: str) -> QuerySet:
    return TekunTask.objects.filter(is_open=True, kind=kind).values("application_id")


def _application_in_scope(application: TekunApplication, actor, *, lock: bool = True) -> TekunApplication:
    rows = TekunApplication.objects.visible_to(actor).select_related(
        "case", "person", "household", "basic_entitlement", "care_entitlement"
    )
    if lock:
        rows = rows.select_for_update(of=("self",))
    found = rows.filter(pk=application.pk).first()
    if found is None:
        raise TransitionError("该特困人员不存在或不在您的数据范围内")
    return found


def _require_supported(application: TekunApplication, on_date: datetime.date) -> None:
    if not supported(on_date).filter(pk=application.pk).exists():
        raise TransitionError(f"{application.person.name}未在享受特困人员救助供养（或已终止），不能办理")


def care_tier_in_force(application: TekunApplication, month: datetime.date) -> str:
    """The care tier paid for `month`: the last re-assessment decision from that month, else the approval's."""
    care = application.care_entitlement
    if care is not None:
        decided = [
            tier
            for start, tier, _ in tekun_care_tiers({"id": care.pk, "params": care.params})
            if start <= month
        ]
        if decided:
            return decided[-1]
    return application.self_care_tier


def _task_in_scope(task: TekunTask, actor, kind: str) -> TekunTask:
    found = (
        TekunTask.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("application", "person")
        .filter(pk=task.pk)
        .first()
    )
    if found is None:
        raise TransitionError("该事项不存在或不在您的数据范围内")
    if found.kind != kind:
        raise TransitionError("请求无效，请重试")
    if not found.is_open:
        raise TransitionError(f"该事项已于{cn_date(timezone.localdate(found.closed_at))}办结，不能重复办理")
    return found


def _close(task: TekunTask, *, actor, outcome: str, finding: str, data: dict | None = None) -> TekunTask:
    task.is_open = False
    task.outcome = outcome
    task.finding = finding
    task.data = {**(task.data or {}), **(data or {})}
    task.closed_by = actor
    task.closed_at = timezone.now()
    task.save(update_fields=["is_open", "outcome", "finding", "data", "closed_by", "closed_at"])
    case_log_action(
        case=task.application.case,
        name=f"tekun_{task.kind}",
        label=f"{task.get_kind_display()}办结",
        actor=actor,
        comment=f"{task.get_outcome_display()}：{finding}",
        data={"task": task.pk, "outcome": outcome},
    )
    return task


def _new_task(
    application: TekunApplication, *, kind: str, reason: str, opened_on, due_on, actor, data=None
) -> TekunTask | None:
    """A to-do, or None when one of the kind is already open (the database refuses a second)."""
    try:
        with transaction.atomic():
            return TekunTask.objects.create(
                application=application,
                person_id=application.person_id,
                region_code=application.region_code,
                kind=kind,
                reason=reason[:200],
                opened_on=opened_on,
                due_on=due_on,
                data=data or {},
                opened_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError as error:
        if not violated(error, TekunTask, "one_open_tekun_task_per_kind"):
            raise
        return None


# ---------------------------------------------------------------------------------------------------
# 1. Care-tier re-assessment
# ---------------------------------------------------------------------------------------------------


@transaction.atomic
def tekun_reassessment_open(
    *, application: TekunApplication, actor, reason: str, reported_on: datetime.date | None = None
) -> TekunTask:
    """A reported change of self-care: a re-assessment due within `tekun.reassess_working_days` working
    days of the report (民发〔2021〕43号: 生活自理能力发生变化的，应在10个工作日内重新评估)."""
    _require(actor, ACT_PERMISSION, "登记特困人员自理能力变化")
    application = _application_in_scope(application, actor)
    today = _today()
    errors: dict[str, str] = {}
    reason = _text(reason, "变化情况", errors, "reason", limit=200)
    reported_on = reported_on or today
    if reported_on > today:
        errors["reported_on"] = "报告日期不能晚于今天"
    elif application.start_month and reported_on < add_months(application.start_month, -1):
        errors["reported_on"] = (
            f"报告日期不能早于{cn_date(add_months(application.start_month, -1))}"
            f"（救助供养自{cn_month(application.start_month)}起发放）"
        )
    if errors:
        raise ValidationError(errors)
    _require_supported(application, today)
    due = add_working_days(reported_on, int_parameter(P_REASSESS_DAYS, reported_on))
    task = _new_task(
        application,
        kind=TekunTaskKind.REASSESSMENT,
        reason=f"报告自理能力变化：{reason}",
        opened_on=reported_on,
        due_on=due,
        actor=actor,
    )
    if task is None:
        raise ValidationError({"reason": f"{application.person.name}已有正在办理的生活自理能力重新评估"})
    return task


@transaction.atomic
def tekun_care_changes_detect(*, on_date: datetime.date, actor) -> list[TekunTask]:
    """Set-based: every supported person in the actor's scope whose 特困 self-care assessment in force
    (core.registry.facts) gives another tier than the one paid next month gets a re-assessment, due
    within the working days from the assessment's date. Idempotent (one open re-assessment a person)."""
    _require(actor, ACT_PERMISSION, "检查特困人员自理能力变化")
    applications = list(
        supported(on_date)
        .filter(pk__in=TekunApplication.objects.visible_to(actor).values("pk"))
        .exclude(pk__in=_open_tasks(TekunTaskKind.REASSESSMENT))
        .select_related("care_entitlement", "person")
    )
    levels = assessment_levels_on(
        [a.person_id for a in applications], AssessmentKind.TEKUN_SELF_CARE, on_date
    )
    if not levels:
        return []
    from core.registry.models import Assessment

    dates = dict(
        Assessment.objects.filter(
            person_id__in=list(levels), kind=AssessmentKind.TEKUN_SELF_CARE, assessed_on__lte=on_date
        )
        .values("person_id")
        .annotate(last=Max("assessed_on"))
        .values_list("person_id", "last")
    )
    days = int_parameter(P_REASSESS_DAYS, on_date)
    next_month = add_months(month_start(on_date), 1)
    opened = []
    for application in applications:
        level = levels.get(application.person_id)
        tier = LEVEL_TIER.get(level)
        paid = care_tier_in_force(application, next_month)
        if tier is None or tier == paid:
            continue
        assessed_on = dates.get(application.person_id, on_date)
        task = _new_task(
            application,
            kind=TekunTaskKind.REASSESSMENT,
            reason=f"登记的生活自理能力评估（{cn_date(assessed_on)}）为“{tier}”，与现行照料护理档次“{paid}”不一致",
            opened_on=assessed_on,
            due_on=add_working_days(assessed_on, days),
            actor=actor,
        )
        if task is not None:
            opened.append(task)
    return opened


@dataclass
class ReassessmentResult:
    task: TekunTask
    tier: str
    previous: str
    from_month: datetime.date | None
    warning: str = ""


@transaction.atomic
def tekun_reassessment_record(
    *,
    task: TekunTask,
    actor,
    assessed_on: datetime.date | None,
    self_care_items: Mapping[str, bool],
    finding: str,
) -> ReassessmentResult:
    """Record the six-item re-assessment. A different tier is decided from the next month: the care
    entitlement gets a dated tier (params["tiers"]), the calculator pays it from that month on."""
    _require(actor, ACT_PERMISSION, "登记生活自理能力重新评估")
    task = _task_in_scope(task, actor, TekunTaskKind.REASSESSMENT)
    application = _application_in_scope(task.application, actor)
    today = _today()
    errors: dict[str, str] = {}
    items = {key: bool(value) for key, value in (self_care_items or {}).items()}
    tier = ""
    try:
        tier = rules.self_care_tier(items)
    except ValueError as exc:
        errors["self_care_items"] = str(exc)
    finding = _text(finding, "评估情况", errors, "finding", limit=1000)
    if assessed_on is None:
        errors["assessed_on"] = "请填写评估日期"
    elif assessed_on > today:
        errors["assessed_on"] = "评估日期不能晚于今天"
    elif assessed_on < task.opened_on:
        errors["assessed_on"] = f"评估日期不能早于发起日期（{cn_date(task.opened_on)}）"
    if errors:
        raise ValidationError(errors)
    _require_supported(application, today)
    from_month = add_months(month_start(today), 1)
    previous = care_tier_in_force(application, from_month)
    data = {
        "self_care_items": items,
        "tier": tier,
        "previous": previous,
        "assessed_on": assessed_on.isoformat(),
    }
    if tier == previous:
        _close(task, actor=actor, outcome=TekunTaskOutcome.TIER_KEPT, finding=finding, data=data)
        return ReassessmentResult(task, tier, previous, None)
    care = application.care_entitlement
    if care is None:
        raise TransitionError("该特困人员没有照料护理费待遇资格，不能调整档次")
    try:
        standard_in_force(BenefitType.objects.get(code=CARE_BENEFIT_CODE), care.area_type, tier, from_month)
    except BenefitsError as exc:
        raise TransitionError(str(exc)) from None
    number = application.case.number
    tiers = [
        entry
        for entry in (care.params or {}).get("tiers") or []
        if str(entry.get("from", "")) < from_month.isoformat()
    ]
    tiers.append({"from": from_month.isoformat(), "tier": tier, "case": number, "task": task.pk})
    entitlement_update_params(entitlement=care, changes={"tiers": tiers}, actor=actor)
    data["from_month"] = from_month.isoformat()
    _close(
        task,
        actor=actor,
        outcome=TekunTaskOutcome.TIER_CHANGED,
        finding=f"{finding}（照料护理档次由“{previous}”调整为“{tier}”，自{cn_month(from_month)}起执行）",
        data=data,
    )
    return ReassessmentResult(task, tier, previous, from_month, care_warning(tier, application.support_mode))


# ---------------------------------------------------------------------------------------------------
# 2. Yearly review
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TekunReviewDue:
    application_id: int
    person_id: int
    person_name: str
    region_code: str
    anchor: datetime.date
    due_on: datetime.date


def tekun_reviews_due(actor, on_date: datetime.date) -> list[TekunReviewDue]:
    """The supported persons in the actor's scope whose yearly review falls due within
    `tekun.review_lead_days` of `on_date` (or is past due) and who have no review open. Two queries for any
    number of persons: the supported applications and their last closed reviews. The review date is the
    last review's closing date (else the first month paid) plus `tekun.review_months` — the same date
    arithmetic as the 低保 review (assistance.review.rules.add_months_to_date)."""
    months = int_parameter(P_REVIEW_MONTHS, on_date)
    horizon = on_date + datetime.timedelta(days=int_parameter(P_REVIEW_LEAD_DAYS, on_date))
    rows = list(
        supported(on_date)
        .filter(pk__in=TekunApplication.objects.visible_to(actor).values("pk"))
        .exclude(pk__in=_open_tasks(TekunTaskKind.YEARLY_REVIEW))
        .values_list("pk", "person_id", "person__name", "region_code", "start_month")
    )
    last = dict(
        TekunTask.objects.filter(
            kind=TekunTaskKind.YEARLY_REVIEW, is_open=False, application_id__in=[r[0] for r in rows]
        )
        .values("application_id")
        .annotate(last=Max("closed_at"))
        .values_list("application_id", "last")
    )
    due = []
    for pk, person_id, name, region_code, start_month in rows:
        closed = last.get(pk)
        anchor = timezone.localtime(closed).date() if closed else start_month
        due_on = add_months_to_date(anchor, months)
        if due_on <= horizon:
            due.append(TekunReviewDue(pk, person_id, name, region_code, anchor, due_on))
    return sorted(due, key=lambda d: (d.due_on, d.application_id))


@transaction.atomic
def tekun_reviews_open(*, actor, on_date: datetime.date) -> list[TekunTask]:
    """Open the yearly review of everyone `tekun_reviews_due` lists (due on the review date). Idempotent."""
    _require(actor, ACT_PERMISSION, "发起特困人员年度复核")
    due = tekun_reviews_due(actor, on_date)
    applications = TekunApplication.objects.in_bulk([d.application_id for d in due])
    opened = []
    for item in due:
        task = _new_task(
            applications[item.application_id],
            kind=TekunTaskKind.YEARLY_REVIEW,
            reason=f"年度复核（上次复核或起始发放：{cn_date(item.anchor)}）",
            opened_on=on_date,
            due_on=max(item.due_on, on_date),
            actor=actor,
        )
        if task is not None:
            opened.append(task)
    return opened


@transaction.atomic
def tekun_review_record(
    *, task: TekunTask, actor, reviewed_on: datetime.date | None, finding: str
) -> TekunTask:
    """年度复核 concluded: still meets the conditions, support continues (a person who no longer does is
    terminated by decision instead, tekun_terminate with this task)."""
    _require(actor, ACT_PERMISSION, "办理特困人员年度复核")
    task = _task_in_scope(task, actor, TekunTaskKind.YEARLY_REVIEW)
    errors: dict[str, str] = {}
    finding = _text(finding, "复核情况", errors, "finding", limit=1000)
    if reviewed_on is None:
        errors["reviewed_on"] = "请填写复核日期"
    elif reviewed_on > _today():
        errors["reviewed_on"] = "复核日期不能晚于今天"
    if errors:
        raise ValidationError(errors)
    return _close(
        task,
        actor=actor,
        outcome=TekunTaskOutcome.CONTINUED,
        finding=finding,
        data={"reviewed_on": reviewed_on.isoformat()},
    )


# ---------------------------------------------------------------------------------------------------
# 4. Minors re-judged at 16 / 18
# ---------------------------------------------------------------------------------------------------


def _thresholds(on_date: datetime.date) -> tuple[int, int]:
    return int_parameter(rules.P_TEKUN_MINOR_AGE, on_date), int_parameter(P_MINOR_UNTIL_AGE, on_date)


def _rejudgement_open(
    application: TekunApplication, *, age: int, reached_on: datetime.date, actor
) -> TekunTask | None:
    days = int_parameter(P_REJUDGE_DAYS, reached_on)
    return _new_task(
        application,
        kind=TekunTaskKind.MINOR_REJUDGEMENT,
        reason=f"年满{age}周岁（{cn_date(reached_on)}），重新认定是否继续救助供养",
        opened_on=reached_on,
        due_on=add_working_days(reached_on, days),
        actor=actor,
        data={"age": age},
    )


def on_turned_18(event, actor) -> None:
    """Subscriber of the registry's 年满18周岁 (core.registry.events, inside the detector's transaction): a
    person supported as 特困 since a minor is re-judged (DOMAIN.md: minors keep it to 18, longer while in
    school)."""
    for application in supported(event.event_date).filter(person_id=event.person_id, is_minor=True):
        _rejudgement_open(application, age=18, reached_on=event.event_date, actor=actor)


@transaction.atomic
def tekun_minors_detect(*, on_date: datetime.date, actor) -> list[TekunTask]:
    """The daily check the 年满18周岁 event does not cover: persons supported since a minor who reached
    `tekun.minor_age` (16) — or `tekun.minor_until_age` (18) without a re-judgement yet — and those whose
    school continuation has run out. One re-judgement each; idempotent."""
    _require(actor, ACT_PERMISSION, "检查未成年特困人员")
    minor_age, until_age = _thresholds(on_date)
    applications = list(
        supported(on_date)
        .filter(is_minor=True, pk__in=TekunApplication.objects.visible_to(actor).values("pk"))
        .exclude(pk__in=_open_tasks(TekunTaskKind.MINOR_REJUDGEMENT))
        .select_related("person")
    )
    done: dict[int, list[TekunTask]] = {}
    for task in TekunTask.objects.filter(
        kind=TekunTaskKind.MINOR_REJUDGEMENT, application_id__in=[a.pk for a in applications]
    ).order_by("closed_at", "pk"):
        done.setdefault(task.application_id, []).append(task)
    opened = []
    for application in applications:
        birth = application.person.birth_date
        age = rules.age_on(birth, on_date)
        judged = {t.data.get("age") for t in done.get(application.pk, [])}
        threshold = None
        if age >= until_age and until_age not in judged:
            threshold = until_age
        elif minor_age < until_age and minor_age <= age < until_age and minor_age not in judged:
            threshold = minor_age
        if threshold is not None:
            reached = add_months_to_date(birth, 12 * threshold)
            task = _rejudgement_open(
                application, age=threshold, reached_on=min(reached, on_date), actor=actor
            )
        else:
            last = (done.get(application.pk) or [None])[-1]
            school_until = (last.data or {}).get("school_until") if last is not None else None
            if not (
                last is not None
                and last.outcome == TekunTaskOutcome.CONTINUED_SCHOOL
                and school_until
                and datetime.date.fromisoformat(school_until) <= on_date
            ):
                continue
            task = _new_task(
                application,
                kind=TekunTaskKind.MINOR_REJUDGEMENT,
                reason=f"在校就读继续供养至{cn_date(datetime.date.fromisoformat(school_until))}期满，重新认定",
                opened_on=on_date,
                due_on=add_working_days(on_date, int_parameter(P_REJUDGE_DAYS, on_date)),
                actor=actor,
                data={"age": until_age, "school_renewal": True},
            )
        if task is not None:
            opened.append(task)
    return opened


@transaction.atomic
def tekun_rejudgement_record(
    *,
    task: TekunTask,
    actor,
    in_school: bool,
    school_proof: str = "",
    school_until: datetime.date | None = None,
    finding: str,
) -> TekunTask:
    """Re-judgement of a minor: at 16 support continues to 18 (`tekun.minor_until_age`); at 18 only while
    in school, with the proof named and for at most `tekun.school_continue_months`; otherwise the person is
    terminated by decision (tekun_terminate, reason 未成年人年满18周岁且不在校就读)."""
    _require(actor, ACT_PERMISSION, "办理未成年特困人员重新认定")
    task = _task_in_scope(task, actor, TekunTaskKind.MINOR_REJUDGEMENT)
    today = _today()
    _, until_age = _thresholds(today)
    errors: dict[str, str] = {}
    finding = _text(finding, "认定情况", errors, "finding", limit=1000)
    age = int((task.data or {}).get("age") or until_age)
    if age < until_age:
        if errors:
            raise ValidationError(errors)
        return _close(
            task,
            actor=actor,
            outcome=TekunTaskOutcome.CONTINUED,
            finding=f"{finding}（继续供养至年满{until_age}周岁）",
        )
    if not in_school:
        errors["in_school"] = (
            f"年满{until_age}周岁且不在校就读的，不能继续救助供养，请办理终止（终止原因：未成年人年满18周岁且不在校就读）"
        )
    else:
        school_proof = _text(school_proof, "在校就读证明", errors, "school_proof", limit=200)
        longest = add_months_to_date(today, int_parameter(P_SCHOOL_MONTHS, today))
        if school_until is None:
            errors["school_until"] = "请填写继续供养至（就读证明有效期）"
        elif school_until <= today:
            errors["school_until"] = "继续供养截止日期应晚于今天"
        elif school_until > longest:
            errors["school_until"] = f"每次凭就读证明继续供养最长至{cn_date(longest)}"
    if errors:
        raise ValidationError(errors)
    return _close(
        task,
        actor=actor,
        outcome=TekunTaskOutcome.CONTINUED_SCHOOL,
        finding=f"{finding}（在校就读证明：{school_proof}；继续供养至{cn_date(school_until)}）",
        data={"school_proof": school_proof, "school_until": school_until.isoformat()},
    )


# ---------------------------------------------------------------------------------------------------
# 3. Termination by decision
# ---------------------------------------------------------------------------------------------------


@transaction.atomic
def tekun_terminate(
    *,
    application: TekunApplication,
    actor,
    reason: str,
    details: str,
    effective_month: datetime.date | None,
    task: TekunTask | None = None,
) -> TekunTermination:
    """终止救助供养 by the 科长's decision: the reason from the fixed list, the written details and the month
    from which nothing is paid; both entitlements end with the month before (months already paid after it
    are recovered by the run's 扣回 lines). Open to-dos of the person close as terminated. Printed as the
    终止决定书 (assistance.tekun.documents)."""
    _require(actor, DECIDE_PERMISSION, "作出终止救助供养决定")
    application = _application_in_scope(application, actor)
    today = _today()
    errors: dict[str, str] = {}
    if reason not in TekunTerminationReason.values:
        errors["reason"] = "请选择终止原因"
    details = _text(details, "终止理由", errors, "details", limit=1000)
    start = application.start_month
    if effective_month is None:
        errors["effective_month"] = "请填写终止月份"
    else:
        effective_month = month_start(effective_month)
        latest = add_months(month_start(today), 3)
        if start and effective_month <= start:
            errors["effective_month"] = f"终止月份应晚于起始发放月份（{cn_month(start)}）"
        elif effective_month > latest:
            errors["effective_month"] = f"终止月份不能晚于{cn_month(latest)}"
    if (
        reason == TekunTerminationReason.MINOR_AGE
        and effective_month is not None
        and "effective_month" not in errors
    ):
        _, until_age = _thresholds(today)
        if rules.age_on(application.person.birth_date, effective_month) < until_age:
            errors["reason"] = f"{application.person.name}在终止月份未满{until_age}周岁，不能以此原因终止"
    if errors:
        raise ValidationError(errors)
    if TekunTermination.objects.filter(application=application).exists():
        raise TransitionError(f"{application.person.name}的特困人员救助供养已终止，不能重复终止")
    # A death recorded in the registry has already ended the entitlements (core.benefits, from the month
    # after death); the decision is still made and printed for the file.
    if not (reason == TekunTerminationReason.DEATH and application.person.death_date is not None):
        _require_supported(application, today)
    if task is not None:
        task = (
            TekunTask.objects.select_for_update()
            .filter(pk=task.pk, application=application, is_open=True)
            .first()
        )
        if task is None:
            raise TransitionError("该事项已办结或不属于该特困人员")
    label = TekunTerminationReason(reason).label
    last_month = add_months(effective_month, -1)
    for entitlement in (application.basic_entitlement, application.care_entitlement):
        if entitlement is not None:
            entitlement_end(
                entitlement=entitlement, last_month=last_month, reason=f"终止特困供养：{label}", actor=actor
            )
    number = reserve_case_numbers(TERMINATION_PREFIX, today.year)[0]
    termination = TekunTermination.objects.create(
        number=number,
        application=application,
        person_id=application.person_id,
        region_code=application.region_code,
        reason=reason,
        details=details,
        effective_month=effective_month,
        task=task,
        decided_by=actor,
    )
    for open_task in TekunTask.objects.select_for_update().filter(application=application, is_open=True):
        _close(
            open_task,
            actor=actor,
            outcome=TekunTaskOutcome.TERMINATED,
            finding=f"终止救助供养（{number}）：{label}",
        )
    case_log_action(
        case=application.case,
        name="tekun_terminate",
        label="终止救助供养",
        actor=actor,
        comment=f"{number}：{label}；自{cn_month(effective_month)}起停止发放。{details}",
        data={
            "termination": termination.pk,
            "reason": reason,
            "effective_month": effective_month.isoformat(),
        },
    )
    return termination


# ---------------------------------------------------------------------------------------------------
# 6. 照料服务协议 (分散供养)
# ---------------------------------------------------------------------------------------------------


@transaction.atomic
def tekun_care_agreement_record(
    *,
    application: TekunApplication,
    actor,
    carer_name: str,
    carer_relation: str,
    carer_phone: str,
    services: str,
    frequency: str,
    signed_on: datetime.date | None,
    valid_until: datetime.date | None,
) -> TekunCareAgreement:
    """Record the care agreement of a person supported at home (分散供养)."""
    _require(actor, ACT_PERMISSION, "登记照料服务协议")
    application = _application_in_scope(application, actor)
    today = _today()
    errors: dict[str, str] = {}
    carer_name = _text(carer_name, "照料人姓名", errors, "carer_name", limit=50)
    carer_relation = _text(carer_relation, "与特困人员关系", errors, "carer_relation", limit=30)
    carer_phone = _text(carer_phone, "照料人电话", errors, "carer_phone", limit=20)
    if carer_phone and "carer_phone" not in errors and not PHONE.match(carer_phone):
        errors["carer_phone"] = "联系电话只能包含数字、空格和“-”"
    services = _text(services, "照料服务内容", errors, "services", limit=500)
    frequency = _text(frequency, "服务频次", errors, "frequency", limit=50)
    if signed_on is None:
        errors["signed_on"] = "请填写签订日期"
    elif signed_on > today:
        errors["signed_on"] = "签订日期不能晚于今天"
    if valid_until is None:
        errors["valid_until"] = "请填写有效期"
    elif signed_on is not None and valid_until < signed_on:
        errors["valid_until"] = "有效期不能早于签订日期"
    if errors:
        raise ValidationError(errors)
    if application.support_mode != SupportMode.DISPERSED:
        raise TransitionError("照料服务协议适用于分散供养的特困人员")
    _require_supported(application, today)
    agreement = TekunCareAgreement.objects.create(
        application=application,
        person_id=application.person_id,
        region_code=application.region_code,
        carer_name=carer_name,
        carer_relation=carer_relation,
        carer_phone=carer_phone,
        services=services,
        frequency=frequency,
        signed_on=signed_on,
        valid_until=valid_until,
        recorded_by=actor,
    )
    case_log_action(
        case=application.case,
        name="tekun_care_agreement",
        label="登记照料服务协议",
        actor=actor,
        comment=f"照料人{carer_name}（{carer_relation}），{frequency}；{cn_date(signed_on)}签订，有效期至{cn_date(valid_until)}",
        data={"agreement": agreement.pk},
    )
    return agreement


__all__ = [
    "BASIC_BENEFIT_CODE",
    "CARE_BENEFIT_CODE",
    "on_turned_18",
    "tekun_care_agreement_record",
    "tekun_care_changes_detect",
    "tekun_minors_detect",
    "tekun_reassessment_open",
    "tekun_reassessment_record",
    "tekun_rejudgement_record",
    "tekun_review_record",
    "tekun_reviews_due",
    "tekun_reviews_open",
    "tekun_terminate",
]
