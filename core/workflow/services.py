"""Every write of the case engine: create a case, move it, open and close its 公示.

Bureau services call these (`dibao_case_approve` calls `case_transition(..., name="approve")` and then
creates the entitlement, or declares that as the transition's `effect`). Nothing else assigns
`Case.status`: the guard, maker-checker and the audit row would be skipped.
"""

from __future__ import annotations

import datetime
import importlib
import logging
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.accounts.templatetags.ui import cn_date
from core.registry.models import Household, Person, Region
from core.registry.querysets import user_scope_prefix

from .calendar import add_working_days
from .engine import (
    CHECK_KINDS,
    KIND_APPROVE,
    KIND_ENTER,
    KIND_ORDER,
    KIND_OTHER,
    MAKER_KINDS,
    CaseType,
    Transition,
    get_case_type,
    resolve_working_days,
)
from .models import Case, CaseSequence, DecisionDelivery, DeliveryMethod, PublicNotice, TransitionLog

logger = logging.getLogger(__name__)

# 公示 lasts at least 7 days (民发〔2021〕57号 第十九条; 民发〔2021〕43号 for 特困). A deployment may raise
# it with settings.WORKFLOW_NOTICE_MIN_DAYS; a case type may require more (e.g. a foundling's 60 days).
DEFAULT_NOTICE_MIN_DAYS = 7


class TransitionError(Exception):
    """A refused case action; `message` is Chinese and shown to the user as is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def notice_min_days(case_type: CaseType | None = None) -> int:
    minimum = int(getattr(settings, "WORKFLOW_NOTICE_MIN_DAYS", DEFAULT_NOTICE_MIN_DAYS))
    if case_type is not None and case_type.notice_min_days:
        minimum = max(minimum, case_type.notice_min_days)
    return minimum


def _in_scope(user, region_code: str) -> bool:
    prefix = user_scope_prefix(user)
    return prefix is not None and region_code.startswith(prefix)


def reserve_case_numbers(prefix: str, year: int, count: int = 1) -> list[str]:
    """`count` consecutive numbers prefix + year + 6-digit yearly sequence. The counter row is locked until
    the transaction ends, so numbers never repeat; `count=0` only takes the lock (serialising a batch)."""
    seq = CaseSequence.objects.select_for_update().filter(prefix=prefix, year=year).first()
    if seq is None:
        try:
            with transaction.atomic():
                CaseSequence.objects.create(prefix=prefix, year=year, last_value=0)
        except IntegrityError:
            pass  # created concurrently by another transaction; lock it below
        seq = CaseSequence.objects.select_for_update().get(prefix=prefix, year=year)
    first = seq.last_value + 1
    if count:
        seq.last_value += count
        seq.save(update_fields=["last_value"])
    return [f"{prefix}{year}{n:06d}" for n in range(first, first + count)]


def _next_number(prefix: str, year: int) -> str:
    return reserve_case_numbers(prefix, year, 1)[0]


def _log(
    *,
    case: Case,
    name: str,
    label: str,
    kind: str,
    from_status: str,
    to_status: str,
    actor,
    comment: str,
    data,
) -> TransitionLog:
    return TransitionLog.objects.create(
        case=case,
        transition=name,
        label=label,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        comment=comment,
        data=data or {},
    )


def case_log_action(
    *,
    case: Case,
    name: str,
    label: str,
    actor,
    comment: str = "",
    data: dict | None = None,
    kind: str = KIND_ENTER,
) -> TransitionLog:
    """An audit row for an action that does not move the case (an investigation recorded, a proposal, a
    先行救助). Kind "enter" by default: whoever records such a fact counts as a maker and takes no later
    review or approval step of the case (separation of duties)."""
    return _log(
        case=case,
        name=name,
        label=label,
        kind=kind,
        from_status=case.status,
        to_status=case.status,
        actor=actor,
        comment=comment,
        data=data,
    )


def last_log(case: Case, names: tuple[str, ...] = ()) -> TransitionLog | None:
    """The case's latest log row (of the transitions `names`, if given): the comment of the move that
    just happened is what an effect records as the decision's reasons."""
    logs = TransitionLog.objects.filter(case_id=case.pk)
    if names:
        logs = logs.filter(transition__in=names)
    return logs.order_by("-at", "-id").first()


@transaction.atomic
def case_create(
    *,
    case_type: str | CaseType,
    applicant_person: Person | None = None,
    applicant_household: Household | None = None,
    region: Region,
    actor,
    comment: str = "",
    applicant_name: str = "",
) -> Case:
    """Open a case in the type's initial status, numbered `<prefix><year><000001>`, and log it."""
    ct = case_type if isinstance(case_type, CaseType) else get_case_type(case_type)
    if not actor.has_perm("workflow.add_case"):
        raise TransitionError("您没有录入案件的权限")
    if not _in_scope(actor, region.code):
        raise TransitionError("所选区划不在您的数据范围内")
    if not applicant_name:
        if applicant_person is not None:
            applicant_name = applicant_person.name
        elif applicant_household is not None:
            head = applicant_household.head
            applicant_name = head.name if head is not None else applicant_household.number
    if not applicant_name:
        raise TransitionError("请指定申请人或申请家庭")
    today = timezone.localdate()
    case = Case.objects.create(
        number=_next_number(ct.number_prefix, today.year),
        case_type=ct.code,
        applicant_person=applicant_person,
        applicant_household=applicant_household,
        applicant_name=applicant_name,
        region=region,
        region_code=region.code,
        status=ct.initial_status,
        current_step=ct.step_label(ct.initial_status),
        assignee_role=ct.initial_assignee_role,
        is_open=not ct.is_closed(ct.initial_status),
        step_started_on=today,
        due_date=_due_date(ct.initial_due_working_days, None, today),
        created_by=actor,
        updated_by=actor,
    )
    _log(
        case=case,
        name="create",
        label="录入",
        kind=KIND_ENTER,
        from_status="",
        to_status=case.status,
        actor=actor,
        comment=comment,
        data={},
    )
    return case


@dataclass(frozen=True)
class NewCase:
    """One case of a batch opened by `cases_create_bulk` (e.g. the reviews a schedule opens)."""

    applicant_name: str
    region_id: int
    region_code: str
    applicant_person_id: int | None = None
    applicant_household_id: int | None = None
    # The first step's time limit; None = the case type's initial limit in working days.
    due_date: datetime.date | None = None
    comment: str = ""


@transaction.atomic
def cases_create_bulk(
    *,
    case_type: str | CaseType,
    cases: list[NewCase],
    actor,
    label: str = "录入",
    permission: str = "workflow.add_case",
    ordered: bool = False,
) -> list[Case]:
    """`case_create` for many cases at once (a scheduled batch): the same checks, numbers and creation log
    rows, written with bulk inserts — a constant number of queries whatever the batch size. `permission`
    is what the actor needs (a case a 科长 orders, e.g. a review after a 抽查, needs approve_case).
    `ordered`: the actor orders the case rather than entering it (log kind KIND_ORDER) — separation of
    duties then does not bar them from its approval (others enter and investigate it)."""
    ct = case_type if isinstance(case_type, CaseType) else get_case_type(case_type)
    if not actor.has_perm(permission):
        raise TransitionError("您没有录入案件的权限")
    outside = [c.region_code for c in cases if not _in_scope(actor, c.region_code)]
    if outside:
        raise TransitionError(f"区划 {outside[0]} 不在您的数据范围内")
    if not cases:
        return []
    today = timezone.localdate()
    default_due = _due_date(ct.initial_due_working_days, None, today)
    numbers = reserve_case_numbers(ct.number_prefix, today.year, len(cases))
    created = Case.objects.bulk_create(
        [
            Case(
                number=number,
                case_type=ct.code,
                applicant_person_id=new.applicant_person_id,
                applicant_household_id=new.applicant_household_id,
                applicant_name=new.applicant_name,
                region_id=new.region_id,
                region_code=new.region_code,
                status=ct.initial_status,
                current_step=ct.step_label(ct.initial_status),
                assignee_role=ct.initial_assignee_role,
                is_open=not ct.is_closed(ct.initial_status),
                step_started_on=today,
                due_date=new.due_date or default_due,
                accepted_on=today,
                created_by=actor,
                updated_by=actor,
            )
            for number, new in zip(numbers, cases, strict=True)
        ],
        batch_size=1000,
    )
    TransitionLog.objects.bulk_create(
        [
            TransitionLog(
                case=case,
                transition="create",
                label=label,
                kind=KIND_ORDER if ordered else KIND_ENTER,
                from_status="",
                to_status=case.status,
                actor=actor,
                comment=new.comment,
            )
            for case, new in zip(created, cases, strict=True)
        ],
        batch_size=1000,
    )
    return created


@dataclass(frozen=True)
class _MakerFacts:
    """Who entered, investigated or reviewed a case: read once per case, judged per transition."""

    logs: tuple[tuple[int, str, str], ...]
    always: frozenset[int]  # the creator and the case type's participants (the home visit's visitors)


def _maker_facts(case: Case) -> _MakerFacts:
    rows = tuple(
        TransitionLog.objects.filter(case_id=case.pk, kind__in=(*MAKER_KINDS, KIND_ORDER)).values_list(
            "actor_id", "kind", "transition"
        )
    )
    logs = tuple(row for row in rows if row[1] != KIND_ORDER)
    ordered = any(kind == KIND_ORDER and name == "create" for _, kind, name in rows)
    always = set() if ordered else {case.created_by_id}
    ct = get_case_type(case.case_type)
    if ct.participants:
        module, function = ct.participants.rsplit(".", 1)
        always |= set(getattr(importlib.import_module(module), function)(case))
    return _MakerFacts(logs, frozenset(always))


def _maker_checker_users(
    case: Case, t: Transition | None = None, facts: _MakerFacts | None = None
) -> set[int]:
    """Ids of the users who may not take step `t` (a review or an approval) of `case`: whoever created,
    entered or investigated it (KIND_ENTER, and the case type's participants) and whoever took another
    review step (KIND_REVIEW). For an approval every reviewer counts; the reviewer of a step may take that
    same step again (e.g. after the case came back from a re-investigation)."""
    facts = facts or _maker_facts(case)
    ids = set(facts.always)
    for actor_id, kind, name in facts.logs:
        if kind == KIND_ENTER or t is None or t.kind == KIND_APPROVE or name != t.name:
            ids.add(actor_id)
    return ids


def _role_refusal(ct: CaseType, t: Transition, user) -> str | None:
    """A step belongs to its role (`Transition.roles`); a district role must be held in the case type's
    section (a 社会救助科 科长 cannot approve an eldercare case)."""
    if not t.roles or user.is_superuser:
        return None
    from core.accounts.sections import DISTRICT_ROLES, has_section_role, section_name

    held = [role for role in t.roles if user.has_role(role)]
    if not held:
        return f"“{t.label}”由{'或'.join(t.roles)}办理，您不能办理"
    if any(role not in DISTRICT_ROLES for role in held):
        return None
    if any(has_section_role(user, ct.section, role) for role in held):
        return None
    return f"您不是{section_name(ct.section)}的{'或'.join(held)}，不能办理“{t.label}”"


def _refusal(
    case: Case,
    ct: CaseType,
    t: Transition,
    user,
    *,
    facts: _MakerFacts | None = None,
    check_scope: bool = True,
) -> str | None:
    """Why `user` may not perform `t` on `case` now, or None. Comment/data checks are separate."""
    if not getattr(user, "is_authenticated", False):
        return "请先登录"
    if case.status not in t.source:
        return f"案件当前状态为“{ct.status_label(case.status)}”，不能执行“{t.label}”"
    if t.permission and not user.has_perm(t.permission):
        return f"您没有执行“{t.label}”的权限"
    if check_scope and not _in_scope(user, case.region_code):
        return "案件不在您的数据范围内"
    reason = _role_refusal(ct, t, user)
    if reason:
        return reason
    if t.kind in CHECK_KINDS and user.pk in _maker_checker_users(case, t, facts):
        # Separation of duties (DESIGN.md): whoever entered, investigated or reviewed a case takes no
        # later review or approval step of it.
        what = "审批" if t.kind == KIND_APPROVE else "审核"
        return f"您录入、调查或审核过本案件，按审批分离要求不能{what}（“{t.label}”须由他人办理）"
    if t.guard is not None:
        reason = t.guard(case, user)
        if reason:
            return reason
    return None


def can_transition(case: Case, name: str, user) -> tuple[bool, str]:
    """(allowed, reason) for showing or disabling a button; the service checks again when it runs."""
    ct = get_case_type(case.case_type)
    try:
        t = ct.transition(name).on(timezone.localdate())
    except KeyError:
        return False, "无此操作"
    reason = _refusal(case, ct, t, user)
    return reason is None, reason or ""


def available_transitions(case: Case, user) -> list[Transition]:
    """Transitions from the case's current status that `user` may perform now."""
    return [t for t, reason in transition_choices(case, user) if reason is None]


def transition_choices(case: Case, user) -> list[tuple[Transition, str | None]]:
    """Every transition from the case's current status with why `user` may not take it now (None = may):
    the action panel shows the first kind as buttons and the second disabled with the reason."""
    ct = get_case_type(case.case_type)
    # Each step as it stands today: a Parameter may decide who takes it (Transition.by_parameter).
    today = timezone.localdate()
    candidates = [t.on(today) for t in ct.transitions_from(case.status)]
    # The log is read once for the panel, not once per review or approval button.
    facts = _maker_facts(case) if any(t.kind in CHECK_KINDS for t in candidates) else None
    return [(t, _refusal(case, ct, t, user, facts=facts)) for t in candidates]


def _parameter_record(t: Transition) -> dict[str, str | None]:
    key, value = t.parameter_in_force
    return {"key": key, "value": None if value is None else f"{value.normalize():f}"}


@transaction.atomic
def case_transition(
    *, case: Case, name: str, actor, comment: str = "", data: dict[str, Any] | None = None
) -> Case:
    """Move `case` along its declared transition `name`, or raise TransitionError and change nothing."""
    comment = (comment or "").strip()
    data = dict(data or {})
    locked = Case.objects.visible_to(actor).select_for_update().filter(pk=case.pk).first()
    if locked is None:
        raise TransitionError("案件不存在或不在您的数据范围内")
    ct = get_case_type(locked.case_type)
    try:
        # The step as it stands on the day of the move (a Parameter may decide who takes it).
        t = ct.transition(name).on(timezone.localdate())
    except KeyError:
        raise TransitionError(f"{ct.label}没有“{name}”这一操作") from None
    reason = _refusal(locked, ct, t, actor)
    if reason:
        raise TransitionError(reason)
    if t.requires_comment and not comment:
        raise TransitionError(f"“{t.label}”须填写意见")
    missing = [key for key in t.required_data if data.get(key) in (None, "", [], {})]
    if missing:
        raise TransitionError(f"“{t.label}”缺少必填信息：{'、'.join(missing)}")

    today = timezone.localdate()
    from_status = locked.status
    closed = ct.is_closed(t.target)
    locked.status = t.target
    locked.current_step = ct.step_label(t.target, t)
    locked.assignee_role = "" if closed else t.assignee_role
    locked.step_started_on = today
    locked.due_date = None if closed else _due_date(t.due_working_days, locked, today)
    locked.is_open = not closed
    locked.closed_at = timezone.now() if closed else None
    if t.kind == KIND_ENTER and locked.accepted_on is None:
        locked.accepted_on = today
    locked.updated_by = actor
    locked.save(
        update_fields=[
            "status",
            "current_step",
            "assignee_role",
            "step_started_on",
            "due_date",
            "is_open",
            "closed_at",
            "accepted_on",
            "updated_by",
            "updated_at",
        ]
    )
    _log(
        case=locked,
        name=t.name,
        label=t.label,
        kind=t.kind,
        from_status=from_status,
        to_status=t.target,
        actor=actor,
        comment=comment,
        # The log keeps which Parameter value decided who took the step (e.g. 委托街道确认).
        data=data if t.parameter_in_force is None else {**data, "by_parameter": _parameter_record(t)},
    )
    if ct.record_model:
        apps.get_model(ct.record_model).objects.filter(pk=locked.pk).exclude(is_open=locked.is_open).update(
            is_open=locked.is_open
        )
    if t.effect is not None:
        t.effect(case=locked, transition=t, actor=actor, data=data)
    # Keep the caller's instance current, so `case.status` reads right after the call.
    for f in (
        "status",
        "current_step",
        "assignee_role",
        "step_started_on",
        "due_date",
        "is_open",
        "closed_at",
    ):
        setattr(case, f, getattr(locked, f))
    case.accepted_on = locked.accepted_on
    case.updated_by = actor
    return locked


def _lock_notice(notice: PublicNotice, actor) -> PublicNotice:
    locked = (
        PublicNotice.objects.visible_to(actor)
        .select_for_update()
        .select_related("case")
        .filter(pk=notice.pk)
        .first()
    )
    if locked is None:
        raise TransitionError("公示不存在或不在您的数据范围内")
    return locked


# The longest 公示 a form may ask for: the rules ask for days (7 for 低保), a longer one is a typing error
# (and 99999999 days would overflow the date arithmetic of its last day).
MAX_NOTICE_DAYS = 365
# A 公示 may be arranged at most this many days ahead (settings.WORKFLOW_NOTICE_MAX_LEAD_DAYS): a start
# further out is a typing error, and the case would wait unnoticed meanwhile.
DEFAULT_NOTICE_MAX_LEAD_DAYS = 30
# Working days after a 公示's last day for closing it (公示期满) before the case shows overdue.
NOTICE_CLOSING_WORKING_DAYS = 2


def notice_max_lead_days() -> int:
    return int(getattr(settings, "WORKFLOW_NOTICE_MAX_LEAD_DAYS", DEFAULT_NOTICE_MAX_LEAD_DAYS))


def notice_end_date(start_date: datetime.date, days: int) -> datetime.date:
    """The last day a 公示 of `days` days posted on `start_date` hangs, both ends included: a posting, not a
    民法典 period (DESIGN.md "Dates the law counts") — 7 days posted on 9-24 hang until 9-30."""
    return start_date + datetime.timedelta(days=days - 1)


def _notice_start_refusal(
    case: Case, start_date: datetime.date | None, not_before: datetime.date | None, today: datetime.date
) -> str | None:
    """Why a 公示 of `case` may not start on `start_date`, naming the earliest or latest allowed date. Not
    before the investigation it publishes (`not_before`, which the flow knows), nor before the case was
    accepted (or, not yet accepted, entered): a backdated start would let the 公示 be finished at once.
    Not more than the allowed lead after today."""
    if start_date is None:
        return "请填写公示开始日期"
    floors = [
        (case.accepted_on, "受理日期")
        if case.accepted_on is not None
        else (timezone.localtime(case.created_at).date(), "案件登记日期")
    ]
    if not_before is not None:
        floors.append((not_before, "调查核实日期"))
    earliest, what = max(floors, key=lambda floor: floor[0])
    if start_date < earliest:
        return f"公示开始日期不能早于{cn_date(earliest)}（{what}）"
    lead = notice_max_lead_days()
    latest = today + datetime.timedelta(days=lead)
    if start_date > latest:
        return f"公示开始日期不能晚于{cn_date(latest)}（最多提前{lead}天安排公示）"
    return None


@transaction.atomic
def notice_open(
    *,
    case: Case,
    start_date: datetime.date,
    days: int = 7,
    place: str,
    actor,
    not_before: datetime.date | None = None,
) -> PublicNotice:
    """Open a 公示 of `days` days posted from `start_date` (both ends included, see notice_end_date). The
    start may not precede `not_before` — the investigation the 公示 publishes, passed by the flow — or the
    case's acceptance, nor lie more than WORKFLOW_NOTICE_MAX_LEAD_DAYS ahead. The case's step is not due
    before the 公示 has ended and had NOTICE_CLOSING_WORKING_DAYS to be closed."""
    locked = Case.objects.visible_to(actor).select_for_update().filter(pk=case.pk).first()
    if locked is None:
        raise TransitionError("案件不存在或不在您的数据范围内")
    if not actor.has_perm("workflow.add_publicnotice"):
        raise TransitionError("您没有发布公示的权限")
    if not locked.is_open:
        raise TransitionError("案件已办结，不能公示")
    ct = get_case_type(locked.case_type)
    minimum = notice_min_days(ct)
    if days < minimum:
        raise TransitionError(f"公示期不得少于{minimum}天")
    if days > MAX_NOTICE_DAYS:
        raise TransitionError(f"公示天数不能超过{MAX_NOTICE_DAYS}天")
    if not (place or "").strip():
        raise TransitionError("请填写公示地点")
    if locked.notices.filter(closed_at__isnull=True).exists():
        raise TransitionError("本案件已有正在进行的公示")
    today = timezone.localdate()
    refusal = _notice_start_refusal(locked, start_date, not_before, today)
    if refusal:
        raise TransitionError(refusal)
    end_date = notice_end_date(start_date, days)
    # A case in 公示 is not overdue for the 公示's own days.
    due = add_working_days(end_date, NOTICE_CLOSING_WORKING_DAYS)
    if locked.due_date is not None and locked.due_date < due:
        locked.due_date = due
        locked.save(update_fields=["due_date", "updated_at"])
        case.due_date = due
    notice = PublicNotice.objects.create(
        case=locked,
        region_code=locked.region_code,
        start_date=start_date,
        end_date=end_date,
        place=place.strip(),
        created_by=actor,
    )
    _log(
        case=locked,
        name="notice_open",
        label="发布公示",
        kind=KIND_OTHER,
        from_status=locked.status,
        to_status=locked.status,
        actor=actor,
        comment=f"公示期{start_date:%Y-%m-%d}至{end_date:%Y-%m-%d}，地点：{notice.place}",
        data={"notice": notice.pk, "days": days},
    )
    return notice


@transaction.atomic
def notice_object(*, notice: PublicNotice, objection: str, actor, terminate: bool = True) -> PublicNotice:
    """Record an objection raised during the 公示; the case then needs a re-check before approval.

    By default the objection ends this 公示 at once: the objection is re-investigated and a new 公示
    follows (民发〔2021〕57号 第十九条), so a new one must be possible before the old end date."""
    locked = _lock_notice(notice, actor)
    if not actor.has_perm("workflow.add_publicnotice"):
        raise TransitionError("您没有登记公示异议的权限")
    if locked.closed_at is not None:
        raise TransitionError("公示已结束，不能再登记异议")
    objection = (objection or "").strip()
    if not objection:
        raise TransitionError("请填写异议内容")
    stamp = timezone.localdate().strftime("%Y-%m-%d")
    entry = f"{stamp}：{objection}"
    locked.objection = f"{locked.objection}\n{entry}" if locked.objection else entry
    locked.status = PublicNotice.Status.OBJECTED
    fields = ["objection", "status"]
    if terminate:
        locked.closed_at = timezone.now()
        locked.closed_by = actor
        fields += ["closed_at", "closed_by"]
    locked.save(update_fields=fields)
    _log(
        case=locked.case,
        name="notice_object",
        label="登记公示异议",
        kind=KIND_OTHER,
        from_status=locked.case.status,
        to_status=locked.case.status,
        actor=actor,
        comment=objection,
        data={"notice": locked.pk},
    )
    notice.objection, notice.status = locked.objection, locked.status
    notice.closed_at, notice.closed_by = locked.closed_at, locked.closed_by
    return locked


@transaction.atomic
def notice_close(*, notice: PublicNotice, actor) -> PublicNotice:
    """End a 公示 after its last day: 期满无异议 unless an objection was recorded."""
    locked = _lock_notice(notice, actor)
    if not actor.has_perm("workflow.add_publicnotice"):
        raise TransitionError("您没有结束公示的权限")
    if locked.closed_at is not None:
        raise TransitionError("公示已结束")
    today = timezone.localdate()
    if today <= locked.end_date:
        # The last day is a day of the posting: the 公示 ends the day after it (notice_end_date).
        after = locked.end_date + datetime.timedelta(days=1)
        raise TransitionError(f"公示期至{cn_date(locked.end_date)}，期满后方可结束（{cn_date(after)}起）")
    if locked.status == PublicNotice.Status.OPEN:
        locked.status = PublicNotice.Status.PASSED
    locked.closed_at = timezone.now()
    locked.closed_by = actor
    locked.save(update_fields=["status", "closed_at", "closed_by"])
    _log(
        case=locked.case,
        name="notice_close",
        label="公示结束",
        kind=KIND_OTHER,
        from_status=locked.case.status,
        to_status=locked.case.status,
        actor=actor,
        comment=locked.get_status_display(),
        data={"notice": locked.pk},
    )
    notice.status, notice.closed_at, notice.closed_by = locked.status, locked.closed_at, actor
    return locked


def _due_date(spec, case, today: datetime.date) -> datetime.date | None:
    days = resolve_working_days(spec, case, today)
    return add_working_days(today, days) if days is not None else None


# ---------------------------------------------------------------------------------------------------
# What every flow's services repeat around its record (the case-flow kit's service half)
# ---------------------------------------------------------------------------------------------------


def last_comment(case: Case) -> str:
    """The comment of the case's latest log row: called from an effect, the written reasons of the move
    that just happened (a refusal requires them)."""
    log = last_log(case)
    return log.comment if log else ""


def _lock_in_scope(model, pk, actor, *, related: tuple[str, ...], what: str, error: type[Exception]):
    row = (
        model.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related(*related)
        .filter(pk=pk)
        .first()
    )
    if row is None:
        # Out of scope reads the same as missing: a caseworker learns nothing of other regions' records.
        raise error(f"{what}不存在或不在您的数据范围内")
    return row


def record_lock(model, record, actor, *, related: tuple[str, ...] = ("case",), what: str = "申请"):
    """`record` (a flow's CaseRecord) re-read in the actor's scope and locked until the transaction ends,
    with `related` joined: every action of a flow starts here, so two caseworkers acting on one case at
    once are serialised and each sees what the other wrote. TransitionError when out of scope."""
    return _lock_in_scope(model, record.pk, actor, related=related, what=what, error=TransitionError)


def applicant_lock(model, applicant, actor, *, related: tuple[str, ...] = (), what: str):
    """The household or person an application is entered for, re-read in the actor's scope and locked:
    two caseworkers entering the same applicant at once are serialised, so the "already an open
    application / already covered" checks that follow hold. ValidationError (a form error) when the actor
    may not enter applications — checked first, before anything is read — or the applicant is out of
    scope."""
    if not actor.has_perm("workflow.add_case"):
        raise ValidationError("您没有录入申请的权限")
    return _lock_in_scope(model, applicant.pk, actor, related=related, what=what, error=ValidationError)


def applicant_person_lock(person: Person, actor) -> Person:
    """`applicant_lock` of a personal benefit's applicant, with the household and region its case needs
    (the household may be missing: the flow refuses that with its own form error)."""
    return applicant_lock(Person, person, actor, related=("household", "household__region"), what="人员")


def applicant_person_problem(person: Person) -> str | None:
    """Why no application can be entered for this person at all, or None: dead, or without a household
    (a case is scoped and numbered by its household's region)."""
    if person.death_date is not None:
        return "该人员已登记死亡，不能申请"
    if person.household_id is None:
        return "该人员没有有效的家庭档案，请先登记户籍家庭"
    return None


def step_date_problem(
    day: datetime.date | None, *, label: str, applied_on: datetime.date, today: datetime.date
) -> str | None:
    """Why the day a step was done (a home visit, an investigation) cannot be recorded, or None: it must
    be given, not in the future, and not before the application it follows."""
    if day is None:
        return f"请填写{label}"
    if day > today:
        return f"{label}不能晚于今天"
    if day < applied_on:
        return f"{label}不能早于申请日期"
    return None


def application_create(
    model,
    *,
    case_type: str,
    household: Household,
    actor,
    comment: str,
    applicant_person: Person | None = None,
    duplicate: str | dict | None = None,
    **fields,
):
    """Open the case (numbered, logged, scope- and permission-checked by `case_create`) and its flow
    record — scoped by the household's region, entered by `actor` — in one transaction, after the flow
    has validated the input. A refusal of the case engine becomes a form error. `duplicate` is the form
    error for a concurrent second entry that the record's "one open application" constraint refuses;
    without it the record has no such constraint."""
    try:
        case = case_create(
            case_type=case_type,
            applicant_person=applicant_person,
            applicant_household=household,
            region=household.region,
            actor=actor,
            comment=comment,
        )
    except TransitionError as exc:
        raise ValidationError(exc.message) from None
    values = {"case": case, "household": household, "region_code": household.region_code, "created_by": actor}
    if duplicate is None:
        record = model.objects.create(**values, **fields)
    else:
        try:
            # A savepoint: the refused insert must not abort the caller's transaction.
            with transaction.atomic():
                record = model.objects.create(**values, **fields)
        except IntegrityError:
            raise ValidationError(duplicate) from None
    logger.info("%s %s created for household %s by %s", case_type, case.number, household.number, actor)
    return record


def record_decide(record, *, approved: bool, reasons: str, actor, **fields) -> None:
    """Write the decision on an `Application` from a closing effect: approved or refused, the written
    reasons (usually `last_comment(case)`), who decided and when — with the flow's own decision fields
    (`fields`, e.g. the entitlements granted) in the same UPDATE. The engine has already mirrored
    `is_open`, so every flow's decision reads alike on its page and in the 台账."""
    record.approved = approved
    record.reasons = reasons
    record.decided_by = actor
    record.decided_at = timezone.now()
    for name, value in fields.items():
        setattr(record, name, value)
    record.save(update_fields=["approved", "reasons", "decided_by", "decided_at", *fields])


def latest_notice(case: Case) -> PublicNotice | None:
    """The case's latest posted 公示 (a 公示 after an objection may start before the objected one, when
    that one was arranged ahead, so the start date does not say which is the latest)."""
    return PublicNotice.objects.filter(case_id=case.pk).order_by("-created_at", "-id").first()


@transaction.atomic
def case_notice_start(
    *,
    case: Case,
    actor,
    start_date: datetime.date,
    place: str,
    days: int,
    not_before: datetime.date | None,
    publicize_from: str | None,
    publicity_status: str,
) -> PublicNotice:
    """A flow's 提交公示 and 公示 in one step: a previous objected 公示 that has run to its end is closed
    first; a case still in `publicize_from` (its investigation) moves along "publicize" — a case already
    in `publicity_status` (after an objection) stays — and the 公示 opens, not before `not_before`, the
    finding it publishes (see notice_open)."""
    previous = latest_notice(case)
    if previous is not None and previous.closed_at is None and previous.end_date < timezone.localdate():
        notice_close(notice=previous, actor=actor)
    if publicize_from is not None and case.status == publicize_from:
        case_transition(
            case=case, name="publicize", actor=actor, comment=f"公示地点：{(place or '').strip()}"
        )
    elif case.status != publicity_status:
        raise TransitionError(f"案件当前状态为“{case.status_label}”，不能发布公示")
    return notice_open(
        case=case, start_date=start_date, days=days, place=place, actor=actor, not_before=not_before
    )


@transaction.atomic
def case_notice_object(*, case: Case, actor, objection: str) -> Case:
    """登记公示异议 from a flow's page: recorded on the running 公示 (which it ends), then the case goes
    back along "reinvestigate" — a new 公示 follows the new investigation (民发〔2021〕57号 第十九条)."""
    notice = latest_notice(case)
    if notice is None or notice.closed_at is not None:
        raise TransitionError("没有正在进行的公示，不能登记异议")
    notice_object(notice=notice, objection=objection, actor=actor)
    return case_transition(case=case, name="reinvestigate", actor=actor, comment=(objection or "").strip())


@transaction.atomic
def case_notice_finish(*, case: Case, actor, comment: str = "") -> Case:
    """公示期满无异议 from a flow's page: the running 公示 is closed (notice_close refuses before its last
    day is over) and the case moves on along "notice_passed"."""
    notice = latest_notice(case)
    if notice is not None and notice.closed_at is None:
        notice_close(notice=notice, actor=actor)
    return case_transition(case=case, name="notice_passed", actor=actor, comment=(comment or "").strip())


# ---------------------------------------------------------------------------------------------------
# 送达: the day a decision notice reached the person it is addressed to
# ---------------------------------------------------------------------------------------------------


@transaction.atomic
def decision_delivery_record(
    *,
    case: Case,
    document: str,
    document_label: str,
    decided_on: datetime.date,
    delivered_on: datetime.date | None,
    method: str,
    recipient: str,
    actor,
    note: str = "",
) -> DecisionDelivery:
    """登记送达 of one decision notice of `case` (the bureau names it: `document`, `document_label`, and the
    day it was decided). The day may not lie in the future nor before the decision; once per case and
    document. The case's log records it (kind "other": delivering a notice makes nobody a maker)."""
    if not actor.has_perm("workflow.add_case"):
        raise ValidationError("您没有登记文书送达的权限")
    locked = Case.objects.visible_to(actor).select_for_update().filter(pk=case.pk).first()
    if locked is None:
        raise ValidationError("案件不存在或不在您的数据范围内")
    recipient = (recipient or "").strip()
    note = (note or "").strip()
    today = timezone.localdate()
    errors: dict[str, str] = {}
    if delivered_on is None:
        errors["delivered_on"] = "请填写送达日期"
    elif delivered_on > today:
        errors["delivered_on"] = "送达日期不能晚于今天"
    elif delivered_on < decided_on:
        errors["delivered_on"] = f"送达日期不能早于决定日期（{cn_date(decided_on)}）"
    if method not in DeliveryMethod.values:
        errors["method"] = "请选择送达方式"
    if not recipient:
        errors["recipient"] = "请填写受送达人"
    if errors:
        raise ValidationError(errors)
    earlier = DecisionDelivery.objects.filter(case=locked, document=document).first()
    if earlier is not None:
        raise ValidationError(f"{document_label}已于{cn_date(earlier.delivered_on)}登记送达")
    delivery = DecisionDelivery.objects.create(
        case=locked,
        region_code=locked.region_code,
        document=document,
        document_label=document_label,
        delivered_on=delivered_on,
        method=method,
        recipient=recipient,
        note=note,
        recorded_by=actor,
    )
    case_log_action(
        case=locked,
        name="deliver",
        label="登记送达",
        actor=actor,
        comment=f"{document_label}于{cn_date(delivered_on)}{delivery.get_method_display()}，受送达人{recipient}",
        data={"document": document, "delivered_on": delivered_on.isoformat(), "method": method},
        kind=KIND_OTHER,
    )
    return delivery
