"""Every write of 低保 dynamic management (动态管理复核): one keyword-only, atomic function per action.

Status changes go through `core.workflow.services.case_transition` (guard, maker-checker, audit row); the
guards and the confirmation effect the case type declares (case_types.py) are defined here. Errors are
Chinese and shown to the user as they are: `ValidationError` for bad input, `TransitionError` for a
refused case action.

How an outcome reaches the next month's payment run (the run recomputes every entitlement from its
facts, so only what the facts cannot say is written):
- 维持/增发/减发: nothing to write — the 低保 calculator recomputes from the incomes recorded in the
  review; the review keeps the old and the new amount.
- 停发: the entitlement ends with the month of confirmation (entitlement_end).
- 渐退: entitlement.params gets {"taper_until": "YYYY-MM-01", "taper_amount": "…"} (the calculator pays the
  taper amount up to that month) and the entitlement ends with the last taper month.
"""

from __future__ import annotations

import datetime
import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from core.accounts.templatetags.ui import cn_month
from core.benefits.exceptions import BenefitsError, ParameterNotFound
from core.benefits.models import Entitlement, PaymentLine
from core.benefits.months import add_months, month_start
from core.benefits.selectors import parameter_value
from core.benefits.services import entitlement_end, entitlement_update_params
from core.registry.models import IncomeRecord, Person
from core.registry.services import income_record_add
from core.workflow import services as workflow_services
from core.workflow.calendar import add_working_days
from core.workflow.engine import get_case_type
from core.workflow.models import Case
from core.workflow.services import TransitionError

from .. import bases
from ..models import Decision, DibaoReview
from . import prenotice, rules
from .case_types import CASE_TYPE_CODE, ReviewStatus

logger = logging.getLogger(__name__)

BENEFIT_TYPE_CODE = "dibao"
TAPER_MONTHS_PARAMETER = "dibao.taper_months"
# The period of a review opened on a reported change or a 抽查 不符合 (migration 0015).
CHANGE_DAYS_PARAMETER = "review.change_working_days"
# Keys of Entitlement.params the 低保 calculator reads for a 渐退期 (assistance/calculators.py).
Outcome = DibaoReview.Outcome
ZERO = Decimal("0")


# ---------------------------------------------------------------------------------------------------
# Scheduling
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewDue:
    """One household whose next review falls due (or fell due) by the scheduling horizon."""

    entitlement_id: int
    household_id: int
    head_id: int | None
    applicant_name: str
    region_id: int
    region_code: str
    frequency: str
    due_on: datetime.date


def _active_entitlements(actor, on_date: datetime.date):
    """The 低保 household entitlements in the actor's scope paid this month and open-ended (an entitlement
    that already has an end — 停发 or 渐退 decided — is not reviewed again)."""
    month = month_start(on_date)
    return (
        Entitlement.objects.visible_to(actor)
        .filter(
            benefit_type__code=BENEFIT_TYPE_CODE,
            status=Entitlement.Status.ACTIVE,
            household__isnull=False,
            end_month__isnull=True,
            start_month__lte=add_months(month, 1),
        )
        .exclude(dibao_reviews__is_open=True)
    )


def reviews_due(actor, on_date: datetime.date, *, horizon_days: int = rules.LEAD_DAYS) -> list[ReviewDue]:
    """The households in the actor's scope whose next review falls due within `horizon_days` of `on_date`
    and that have no open review. Four queries for any number of households: entitlements, last
    confirmed reviews, work incomes, working-age members."""
    rows = list(
        _active_entitlements(actor, on_date).values(
            "id",
            "household_id",
            "start_month",
            "region_code",
            region_id=F("household__region_id"),
            head_id=F("household__head_id"),
            head_name=F("household__head__name"),
            household_number=F("household__number"),
        )
    )
    if not rows:
        return []
    last_reviewed = {
        r["entitlement_id"]: r["last"]
        for r in DibaoReview.objects.filter(
            is_open=False, entitlement_id__in=[r["id"] for r in rows], case__closed_at__isnull=False
        )
        .values("entitlement_id")
        .annotate(last=Max("case__closed_at"))
        .order_by()
    }
    frequencies = rules.review_frequencies((r["household_id"] for r in rows), on_date)
    horizon = on_date + datetime.timedelta(days=horizon_days)
    due = []
    for r in rows:
        anchor = last_reviewed.get(r["id"])
        anchor = timezone.localtime(anchor).date() if anchor is not None else r["start_month"]
        frequency = frequencies[r["household_id"]]
        due_on = rules.review_due_on(anchor, frequency)
        if due_on <= horizon:
            due.append(
                ReviewDue(
                    entitlement_id=r["id"],
                    household_id=r["household_id"],
                    head_id=r["head_id"],
                    applicant_name=r["head_name"] or r["household_number"],
                    region_id=r["region_id"],
                    region_code=r["region_code"],
                    frequency=frequency,
                    due_on=due_on,
                )
            )
    return due


def _open_reviews(
    items: list[ReviewDue], *, actor, comment: str, permission: str = "workflow.add_case"
) -> list[DibaoReview]:
    """Open one review case per item with bulk inserts: the Case headers (status 复核中, to-do of the
    community caseworker, due date = the review date), their creation log rows and the reviews."""
    if not items:
        return []
    cases = workflow_services.cases_create_bulk(
        case_type=CASE_TYPE_CODE,
        cases=[
            workflow_services.NewCase(
                applicant_name=item.applicant_name,
                region_id=item.region_id,
                region_code=item.region_code,
                applicant_person_id=item.head_id,
                applicant_household_id=item.household_id,
                # The step's limit is the review date itself, not a count of working days.
                due_date=item.due_on,
                comment=f"{comment}，应于{item.due_on:%Y-%m-%d}前完成复核（{rules.Frequency(item.frequency).label}）",
            )
            for item in items
        ],
        actor=actor,
        label="发起复核",
        permission=permission,
        # A review the 科长 orders (after a 抽查 不符合): the community enters and investigates it, the 科长
        # may still confirm its outcome (separation of duties bars makers, not the one who ordered it).
        ordered=permission == "workflow.approve_case",
    )
    return DibaoReview.objects.bulk_create(
        [
            DibaoReview(
                case=case,
                entitlement_id=item.entitlement_id,
                household_id=item.household_id,
                region_code=item.region_code,
                frequency=item.frequency,
                due_on=item.due_on,
                created_by=actor,
            )
            for case, item in zip(cases, items, strict=True)
        ],
        batch_size=1000,
    )


def _require_scheduler(actor, permission: str = "workflow.add_case") -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(permission):
        raise TransitionError("您没有发起低保复核的权限")


@transaction.atomic
def dibao_reviews_schedule(*, on_date: datetime.date, actor) -> list[DibaoReview]:
    """Open a review for every active 低保 household in the actor's scope that falls due within 30 days
    of `on_date` (or is already past due) and has no open review. Set-based and idempotent: a second run
    opens nothing (a household with an open review is skipped; the database allows one open review per
    entitlement)."""
    _require_scheduler(actor)
    # Locking the number sequence first serialises concurrent runs: the second sees the first's reviews.
    workflow_services.reserve_case_numbers(
        get_case_type(CASE_TYPE_CODE).number_prefix, timezone.localdate().year, 0
    )
    items = reviews_due(actor, on_date)
    reviews = _open_reviews(items, actor=actor, comment="按复核周期自动发起")
    logger.info("dibao reviews scheduled on %s by %s: %s opened", on_date, actor, len(reviews))
    return reviews


@transaction.atomic
def dibao_review_open(
    *,
    entitlement: Entitlement,
    actor,
    due_on: datetime.date | None = None,
    comment: str = "",
    permission: str = "workflow.add_case",
) -> DibaoReview:
    """Open one review now (a reported change of circumstances, 情况变化随时复核), due on `due_on` — by
    default review.change_working_days working days from today (a dated parameter). The actor
    needs `permission`: a caseworker's add_case, or — a review the section's 科长 orders after a 抽查 found
    a street's confirmation 不符合 (assistance.delegation) — approve_case, checked by the caller's service."""
    _require_scheduler(actor, permission)
    entitlement = (
        Entitlement.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("household", "household__head")
        .filter(pk=entitlement.pk, benefit_type__code=BENEFIT_TYPE_CODE, household__isnull=False)
        .first()
    )
    if entitlement is None:
        raise TransitionError("低保资格不存在或不在您的数据范围内")
    if entitlement.status != Entitlement.Status.ACTIVE or entitlement.end_month is not None:
        raise TransitionError("该家庭低保已终止或已确定终止月份，无需复核")
    if DibaoReview.objects.filter(entitlement=entitlement, is_open=True).exists():
        raise TransitionError("该低保家庭已有正在办理的复核")
    today = timezone.localdate()
    if due_on is None:
        try:
            days = int(parameter_value(CHANGE_DAYS_PARAMETER, today))
        except ParameterNotFound as exc:
            raise TransitionError(str(exc)) from None
        due_on = add_working_days(today, max(days, 0))
    household = entitlement.household
    frequency = rules.review_frequencies([household.pk], today)[household.pk]
    item = ReviewDue(
        entitlement_id=entitlement.pk,
        household_id=household.pk,
        head_id=household.head_id,
        applicant_name=household.head.name if household.head_id else household.number,
        region_id=household.region_id,
        region_code=entitlement.region_code,
        frequency=frequency,
        due_on=due_on,
    )
    try:
        with transaction.atomic():
            (review,) = _open_reviews(
                [item], actor=actor, comment=(comment or "").strip() or "发起复核", permission=permission
            )
    except IntegrityError:
        raise TransitionError("该低保家庭已有正在办理的复核") from None
    return review


# ---------------------------------------------------------------------------------------------------
# Amounts
# ---------------------------------------------------------------------------------------------------


@dataclass
class Recomputed:
    """The 低保 amount the calculator gives for a month from the facts recorded now (0 = not eligible), and
    the basis (assistance.bases) a decision taken on them fixes."""

    month: datetime.date
    amount: Decimal
    eligible: bool
    explanation: dict = field(default_factory=dict)
    basis: dict = field(default_factory=dict)


def recompute_amount(
    entitlement: Entitlement, month: datetime.date, *, label: str = "复核", case: Case | None = None
) -> Recomputed:
    """The amount a review decision taken now would fix for `month`: the registered 低保 calculator on the
    household's incomes and members recorded now (the 单人保 unit stays the persons it covers), ignoring
    any taper already granted — exactly what the run pays once the basis is stored."""
    household = entitlement.household
    current = bases.basis_in_force(
        bases.bases_of({"id": entitlement.pk, "params": entitlement.params}), month
    )
    covered = list(current.covered) if current is not None and current.single else None
    try:
        computed = bases.compute_on_facts(
            household,
            month,
            covered=covered,
            label=label,
            case_id=case.pk if case else None,
            case_number=case.number if case else "",
        )
    except BenefitsError as exc:
        raise ValidationError(f"无法核算低保金额：{exc}") from None
    if computed.result is None:
        return Recomputed(month, ZERO, False, {}, computed.basis)
    explanation = json.loads(DjangoJSONEncoder().encode(computed.result.explanation))
    return Recomputed(month, computed.result.amount, True, explanation, computed.basis)


def current_amount(entitlement: Entitlement) -> Decimal | None:
    """What the household is paid now: the latest regular payment line above zero, else the amount fixed
    at approval."""
    line = (
        PaymentLine.objects.filter(
            entitlement_id=entitlement.pk,
            line_type=PaymentLine.LineType.REGULAR,
            amount__gt=0,
            for_month__lte=month_start(timezone.localdate()),
        )
        .order_by("-for_month", "-id")
        .values_list("amount", flat=True)
        .first()
    )
    if line is not None:
        return line
    return (
        Decision.objects.filter(entitlement_id=entitlement.pk, approved=True)
        .values_list("monthly_amount", flat=True)
        .first()
    )


def effective_month(on_date: datetime.date) -> datetime.date:
    """A change confirmed in a month takes effect from the next month's payment."""
    return add_months(month_start(on_date), 1)


def max_taper_months(on_date: datetime.date) -> int:
    try:
        return int(parameter_value(TAPER_MONTHS_PARAMETER, on_date))
    except BenefitsError:
        return 0


# ---------------------------------------------------------------------------------------------------
# Recording the review
# ---------------------------------------------------------------------------------------------------


def _locked_review(review: DibaoReview, actor) -> DibaoReview:
    return workflow_services.record_lock(
        DibaoReview, review, actor, related=("case", "household", "entitlement"), what="复核"
    )


def _require_reviewing(review: DibaoReview, actor, what: str) -> None:
    if not actor.has_perm("workflow.add_case"):
        raise TransitionError(f"您没有{what}的权限")
    if review.case.status != ReviewStatus.REVIEWING:
        raise TransitionError(f"复核当前状态为“{review.case.status_label}”，不能{what}")


@transaction.atomic
def dibao_review_income_add(
    *,
    review: DibaoReview,
    actor,
    kind: str,
    monthly_amount: Decimal | str,
    period_start: datetime.date,
    person: Person | None = None,
    period_end: datetime.date | None = None,
    note: str = "",
) -> IncomeRecord:
    """Record a new or changed income found in the review (in the household's register), logged on the
    review. A recorded outcome is cleared: the amount must be assessed again."""
    review = _locked_review(review, actor)
    _require_reviewing(review, actor, "登记收入")
    record = income_record_add(
        household=review.household,
        kind=kind,
        monthly_amount=monthly_amount,
        period_start=period_start,
        period_end=period_end,
        person=person,
        note=(note or "").strip() or f"低保复核 {review.case.number}",
        actor=actor,
    )
    who = f"{person.name}，" if person is not None else ""
    workflow_services.case_log_action(
        case=review.case,
        name="income_add",
        label="登记收入",
        actor=actor,
        comment=f"{who}{record.get_kind_display()} {record.monthly_amount:.2f} 元/月，"
        f"自{period_start:%Y-%m-%d}起",
        data={"income": record.pk},
    )
    if review.outcome:
        review.outcome = ""
        review.save(update_fields=["outcome"])
    return record


def _assets_over(household_id: int, on_date: datetime.date) -> str:
    """The 财产 limits the household exceeds on the date, in one sentence ("" when within them)."""
    from ..asset_limits import asset_limits_check

    check = asset_limits_check([household_id], on_date)[household_id]
    return "" if check.within else check.summary


def _check_outcome(
    *,
    outcome: str,
    previous: Decimal | None,
    computed: Recomputed,
    taper_months: int | None,
    household_id: int,
    on_date: datetime.date,
) -> dict[str, str]:
    """Whether the chosen outcome fits the recomputed amount; {field: Chinese reason} when it does not."""
    new = computed.amount
    prev = f"{previous:.2f}" if previous is not None else "—"
    if outcome not in Outcome.values:
        return {"outcome": "请选择复核结论"}
    if not computed.eligible and outcome not in (Outcome.STOP, Outcome.TAPER):
        return {"outcome": "按复核后的家庭收入核算，月人均收入不低于低保标准，应作停发或渐退处理"}
    if outcome == Outcome.KEEP and previous is not None and new != previous:
        kind = "增发" if new > previous else "减发"
        return {"outcome": f"核算月保障金额由 {prev} 元变为 {new:.2f} 元，应作{kind}处理"}
    if outcome == Outcome.INCREASE and (previous is None or new <= previous):
        return {"outcome": f"核算月保障金额 {new:.2f} 元不高于原金额 {prev} 元，不能增发"}
    if outcome == Outcome.DECREASE and (previous is None or new >= previous):
        return {"outcome": f"核算月保障金额 {new:.2f} 元不低于原金额 {prev} 元，不能减发"}
    if outcome == Outcome.TAPER:
        if computed.eligible:
            return {"outcome": "家庭月人均收入仍低于低保标准，不适用渐退"}
        if household_id not in rules.households_with_work_income([household_id], on_date):
            # DOMAIN.md: 渐退期 "when income rises above the line through work".
            return {"outcome": "渐退仅适用于因就业（工资、经营、种养殖）收入增加而超过低保标准的家庭"}
        if previous is None:
            return {"outcome": "未找到原月保障金额，无法确定渐退期发放金额"}
        limit = max_taper_months(on_date)
        if not taper_months or not 1 <= taper_months <= limit:
            return {"taper_months": f"渐退期应为1至{limit}个月"}
    return {}


@transaction.atomic
def dibao_review_decide(
    *,
    review: DibaoReview,
    actor,
    findings: str,
    outcome: str,
    reasons: str,
    taper_months: int | None = None,
) -> DibaoReview:
    """登记复核结论: the findings, 维持/增发/减发/停发/渐退 with written reasons. The new amount is recomputed
    by the 低保 calculator from the incomes now recorded, for the month the change takes effect; the
    outcome must fit it (增发 only when it rose, …)."""
    review = _locked_review(review, actor)
    _require_reviewing(review, actor, "登记复核结论")
    errors: dict[str, str] = {}
    findings = (findings or "").strip()
    reasons = (reasons or "").strip()
    if not findings:
        errors["findings"] = "请填写复核情况"
    if not reasons:
        errors["reasons"] = "请填写复核结论的理由"
    today = timezone.localdate()
    month = effective_month(today)
    computed = recompute_amount(review.entitlement, month)
    previous = current_amount(review.entitlement)
    errors.update(
        _check_outcome(
            outcome=outcome,
            previous=previous,
            computed=computed,
            taper_months=taper_months,
            household_id=review.household_id,
            on_date=today,
        )
    )
    if "outcome" not in errors and outcome in (Outcome.KEEP, Outcome.INCREASE, Outcome.DECREASE):
        # 财产 (DOMAIN.md): a household over a limit is reviewed to a stop, with the limit named.
        over = _assets_over(review.household_id, today)
        if over:
            errors["outcome"] = f"家庭财产超过规定：{over}，应作停发处理"
    if errors:
        raise ValidationError(errors)
    if outcome == Outcome.STOP:
        new_amount = ZERO
    elif outcome == Outcome.TAPER:
        new_amount = previous
    else:
        new_amount = computed.amount
    review.findings = findings
    review.reasons = reasons
    review.outcome = outcome
    review.previous_amount = previous
    review.new_amount = new_amount
    review.taper_months = taper_months if outcome == Outcome.TAPER else None
    review.effective_month = month
    review.save(
        update_fields=[
            "findings",
            "reasons",
            "outcome",
            "previous_amount",
            "new_amount",
            "taper_months",
            "effective_month",
        ]
    )
    workflow_services.case_log_action(
        case=review.case,
        name="decide",
        label="登记复核结论",
        actor=actor,
        comment=f"{review.get_outcome_display()}：{describe_change(review)}。理由：{reasons}",
        data={
            "outcome": outcome,
            "previous_amount": f"{previous:.2f}" if previous is not None else None,
            "new_amount": f"{new_amount:.2f}",
            "computed_amount": f"{computed.amount:.2f}",
            "explanation": computed.explanation,
        },
    )
    return review


def describe_change(review: DibaoReview) -> str:
    """One Chinese sentence of what the outcome changes, from which month."""
    prev = f"{review.previous_amount:.2f} 元" if review.previous_amount is not None else "—"
    month = review.effective_month
    if month is None or not review.outcome:
        return ""
    if review.outcome == Outcome.STOP:
        return f"自{cn_month(month)}起停发（原月保障金额 {prev}）"
    if review.outcome == Outcome.TAPER:
        until = add_months(month, (review.taper_months or 1) - 1)
        return (
            f"渐退期{review.taper_months}个月，{cn_month(month)}至{cn_month(until)}按 {prev} 发放，期满停发"
        )
    if review.outcome == Outcome.KEEP:
        return f"维持月保障金额 {review.new_amount:.2f} 元"
    return f"自{cn_month(month)}起月保障金额由 {prev} 调整为 {review.new_amount:.2f} 元"


# ---------------------------------------------------------------------------------------------------
# Guards and the effect declared by the case type
# ---------------------------------------------------------------------------------------------------


def _review_of(case: Case) -> DibaoReview:
    return DibaoReview.objects.select_related("entitlement").get(case_id=case.pk)


def guard_submit(case: Case, user) -> str | None:
    review = _review_of(case)
    if not review.outcome:
        return "尚未登记复核结论"
    if review.outcome == Outcome.STOP and not prenotice.prenotice_of(review):
        return "复核结论为停发的，须先向家庭发出拟停保告知"
    return None


def guard_confirm(case: Case, user) -> str | None:
    review = _review_of(case)
    if not review.outcome:
        return "尚未登记复核结论"
    # 拟停保: no 停发 before the household's period to respond has ended or its response is recorded.
    return prenotice.confirm_refusal(review, timezone.localdate())


def effect_confirm(*, case: Case, transition, actor, data: dict) -> None:
    """科长确认: the outcome reaches the next month's run (see the module docstring)."""
    review = (
        DibaoReview.objects.select_for_update(of=("self",)).select_related("entitlement").get(case_id=case.pk)
    )
    entitlement = review.entitlement
    today = timezone.localdate()
    month = effective_month(today)
    if review.outcome in (Outcome.KEEP, Outcome.INCREASE, Outcome.DECREASE):
        computed = recompute_amount(
            entitlement, month, label=f"复核{review.get_outcome_display()}", case=case
        )
        if computed.amount != review.new_amount:
            # Raised inside the transition's transaction: nothing is confirmed.
            raise TransitionError(
                f"家庭收入或人员情况在复核登记后有变化（现核算为 {computed.amount:.2f} 元），请退回重新复核"
            )
        # The decision fixes the new basis from the effective month (assistance.bases): the run pays it.
        entitlement_update_params(
            entitlement=entitlement,
            changes={bases.BASES_KEY: bases.with_basis(entitlement.params, computed.basis)},
            actor=actor,
        )
    elif review.outcome == Outcome.STOP:
        entitlement_end(
            entitlement=entitlement,
            last_month=month_start(today),
            reason=f"动态复核停发（{case.number}）",
            actor=actor,
        )
    elif review.outcome == Outcome.TAPER:
        until = add_months(month, review.taper_months - 1)
        locked = entitlement_update_params(
            entitlement=entitlement,
            changes={
                "taper_until": until.isoformat(),
                "taper_amount": f"{review.previous_amount:.2f}",
                "taper_review": case.pk,
            },
            actor=actor,
        )
        entitlement_end(
            entitlement=locked, last_month=until, reason=f"渐退期满停发（{case.number}）", actor=actor
        )
    # The engine has already closed the review (is_open mirrors the case).
    review.effective_month = month
    review.save(update_fields=["effective_month"])


# ---------------------------------------------------------------------------------------------------
# Moves
# ---------------------------------------------------------------------------------------------------


def _transition(review: DibaoReview, name: str, actor, comment: str = "") -> Case:
    return workflow_services.case_transition(case=review.case, name=name, actor=actor, comment=comment)


@transaction.atomic
def dibao_review_submit(*, review: DibaoReview, actor, comment: str = "") -> Case:
    return _transition(review, "submit", actor, comment)


@transaction.atomic
def dibao_review_confirm(*, review: DibaoReview, actor, comment: str = "") -> Case:
    """科长确认 (maker-checker enforced by the case engine: whoever recorded the review may not confirm)."""
    return _transition(review, "confirm", actor, comment)


@transaction.atomic
def dibao_review_send_back(*, review: DibaoReview, actor, reason: str) -> Case:
    return _transition(review, "send_back", actor, reason)
