"""Every write of the 临时救助 flow (国发〔2014〕47号, 民发〔2018〕23号): one keyword-only, atomic function per
business action. Status changes go through `core.workflow.services.case_transition`.

Payment design: 临时救助 is one-off, not monthly. On approval the case gets an Entitlement of benefit type
"temp_assistance" for the decision month only (start_month = end_month, params["amount"]), and the
registered calculator's line for it is written at once, as a `one_off` PaymentLine, into the draft one-off
PaymentRun of that month ("临时救助YYYY年M月一次性发放", created when missing). The run appears in 发放批次
and its roster like any other run, is locked the usual way, and never needs a recalculation: each approval
adds its own line and the run's totals."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.accounts.templatetags.ui import cn_date
from core.benefits.calculators import get_calculator, round_amount
from core.benefits.exceptions import BenefitsError
from core.benefits.models import BenefitType, PaymentLine, PaymentRun
from core.benefits.months import month_start
from core.benefits.selectors import StandardsInForce, parameter_value, standard_in_force
from core.benefits.services import entitlement_create
from core.registry.models import Person
from core.workflow import services as workflow_services
from core.workflow.models import Case
from core.workflow.services import (
    TransitionError,
    applicant_person_lock,
    applicant_person_problem,
    case_log_action,
    last_comment,
    last_log,
    record_decide,
    record_lock,
)

from ..models import TempAssistanceCase, TempAssistanceCause, TempAssistanceKind
from .case_types import CASE_TYPE_CODE, TempStatus

BENEFIT_TYPE_CODE = "temp_assistance"
DIBAO_CODE = "dibao"
P_LIMIT_EMERGENCY = "temp.township_limit_emergency"
P_LIMIT_EXPENSE_MULTIPLE = "temp.township_limit_expense_multiple"
# The largest amount, as a multiple of the monthly urban 低保 standard (a constant 100 before issue 13).
P_MAX_MULTIPLE = "temp.max_standard_multiple"
CENT = Decimal("0.01")

# Causes that belong to each kind (DOMAIN.md: 急难型 — accident, fire, sudden illness; 支出型 — medical or
# education spending beyond the household's means).
KIND_CAUSES = {
    TempAssistanceKind.EMERGENCY: (
        TempAssistanceCause.ACCIDENT,
        TempAssistanceCause.FIRE,
        TempAssistanceCause.SUDDEN_ILLNESS,
        TempAssistanceCause.OTHER,
    ),
    TempAssistanceKind.EXPENSE: (
        TempAssistanceCause.MEDICAL,
        TempAssistanceCause.EDUCATION,
        TempAssistanceCause.OTHER,
    ),
}
# Statuses after which a case no longer counts for "once per person and cause per year".
NOT_COUNTED_STATUSES = (TempStatus.REFUSED, TempStatus.WITHDRAWN)


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _case_of(case: Case) -> TempAssistanceCase:
    return TempAssistanceCase.objects.select_related("person").get(case_id=case.pk)


def _decimal(value, field: str, label: str, errors: dict[str, str]) -> Decimal | None:
    if value in (None, ""):
        errors[field] = f"请填写{label}"
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        errors[field] = f"{label}格式不正确"
        return None
    if not number.is_finite():
        errors[field] = f"{label}格式不正确"
        return None
    if number <= 0:
        errors[field] = f"{label}须大于0"
        return None
    return number


# ---------------------------------------------------------------------------------------------------
# Amount and approval level
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """What bounds a 临时救助 amount on a date: the monthly urban 低保 standard, the township's limit for the
    kind (seed 004: 急难型 1,000 元 per person, 支出型 6 × the standard) and the cap (Parameter
    temp.max_standard_multiple × the standard)."""

    standard: Decimal
    limit: Decimal
    limit_text: str
    cap_multiple: Decimal
    cap: Decimal
    rounding: str

    @property
    def help_text(self) -> str:
        return (
            f"城市低保月标准 {_money(self.standard)} 元/月；{self.limit_text}，超过的报区民政局审批；"
            f"最高不超过标准的 {self.cap_multiple.normalize():f} 倍（{_money(self.cap)} 元）"
        )


def limits_on(kind: str, on_date: datetime.date) -> Limits:
    """The standard, the township's limit and the cap in force on `on_date`; BenefitsError when a
    standard or a parameter is missing."""
    dibao = BenefitType.objects.get(code=DIBAO_CODE)
    temp = BenefitType.objects.get(code=BENEFIT_TYPE_CODE)
    standard = standard_in_force(dibao, "urban", "", on_date).amount
    if kind == TempAssistanceKind.EMERGENCY:
        limit = parameter_value(P_LIMIT_EMERGENCY, on_date)
        limit_text = f"急难型乡镇（街道）审批上限 {_money(limit)} 元/人"
    else:
        limit_multiple = parameter_value(P_LIMIT_EXPENSE_MULTIPLE, on_date)
        limit = limit_multiple * standard
        limit_text = f"支出型乡镇（街道）审批上限（城市低保标准 × {limit_multiple.normalize():f} = {_money(limit)} 元）"
    cap_multiple = parameter_value(P_MAX_MULTIPLE, on_date)
    return Limits(standard, limit, limit_text, cap_multiple, cap_multiple * standard, temp.rounding)


@dataclass(frozen=True)
class Proposal:
    """拟救助金额, decided in 元 to the fen (DOMAIN.md "临时救助"); `multiple` (amount ÷ the monthly urban
    低保 standard, two decimals) is shown beside it as a help. The township decides an amount up to its
    limit (seed 004), the district one fen above."""

    standard: Decimal
    multiple: Decimal
    amount: Decimal
    limit: Decimal
    limit_text: str
    level: str

    @property
    def explanation(self) -> str:
        level = dict(TempAssistanceCase.Level.choices)[self.level]
        within = "未超过" if self.level == TempAssistanceCase.Level.TOWNSHIP else "超过"
        return (
            f"{_money(self.amount)} 元（约为城市低保标准 {_money(self.standard)} 元/月的 "
            f"{self.multiple.normalize():f} 倍）；{within}{self.limit_text}，由{level}"
        )


def multiple_of(amount: Decimal, standard: Decimal) -> Decimal:
    """amount ÷ standard to two decimals (ROUND_HALF_UP) — shown beside the amount, never decides it."""
    return (amount / standard).quantize(CENT, ROUND_HALF_UP)


def amount_from_multiple(multiple: Decimal, limits: Limits) -> Decimal:
    """The helper that fills the amount from a multiple: multiple × standard, rounded per the
    temp_assistance benefit type (to 分)."""
    return round_amount(multiple * limits.standard, limits.rounding)


def proposal_for(kind: str, amount: Decimal, on_date: datetime.date) -> Proposal:
    """The approval level of a decided amount on `on_date`: at the limit → township, above → district;
    the decided amount is compared, exactly. BenefitsError when a standard or a parameter is missing."""
    limits = limits_on(kind, on_date)
    level = TempAssistanceCase.Level.TOWNSHIP if amount <= limits.limit else TempAssistanceCase.Level.DISTRICT
    return Proposal(
        limits.standard,
        multiple_of(amount, limits.standard),
        amount,
        limits.limit,
        limits.limit_text,
        level,
    )


def earlier_same_cause(person: Person, cause: str, year: int, *, exclude_pk: int | None = None):
    """The case that already helped this person for this cause in this calendar year (approved or still
    being handled), or None — 同一对象同一原因一年一次 (民发〔2018〕23号)."""
    qs = (
        TempAssistanceCase.objects.filter(person=person, cause=cause, year=year)
        .exclude(case__status__in=NOT_COUNTED_STATUSES)
        .select_related("case")
        .order_by("created_at")
    )
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.first()


def proposal_problem(temp: TempAssistanceCase, case: Case) -> str | None:
    """Why the case cannot go to approval yet, or None."""
    recorded = last_log(case, ("temp_proposal",))
    if recorded is None or temp.proposed_amount is None:
        return "尚未登记调查核实情况和拟救助金额"
    sent_back = last_log(case, ("send_back",))
    if sent_back is not None and recorded.at <= sent_back.at:
        return "退回后尚未重新登记调查核实情况"
    if temp.is_advance and temp.advance_amount and temp.advance_amount > temp.proposed_amount:
        return "先行救助金额超过拟救助金额，请核实"
    return None


# ---------------------------------------------------------------------------------------------------
# Guards and effects declared by the case type
# ---------------------------------------------------------------------------------------------------


def guard_accept(case: Case, user) -> str | None:
    temp = _case_of(case)
    if temp.earlier_case_id:
        return "同年同因已救助，不能受理"
    return None


def _guard_submit(case: Case, level: str) -> str | None:
    temp = _case_of(case)
    problem = proposal_problem(temp, case)
    if problem:
        return problem
    if temp.approval_level != level:
        if level == TempAssistanceCase.Level.TOWNSHIP:
            return "拟救助金额超过乡镇（街道）审批权限，须报区民政局审批"
        return "拟救助金额在乡镇（街道）审批权限内，由乡镇（街道）审批"
    return None


def guard_submit_township(case: Case, user) -> str | None:
    return _guard_submit(case, TempAssistanceCase.Level.TOWNSHIP)


def guard_submit_district(case: Case, user) -> str | None:
    return _guard_submit(case, TempAssistanceCase.Level.DISTRICT)


def guard_approve(case: Case, user) -> str | None:
    return proposal_problem(_case_of(case), case)


def guard_duplicate(case: Case, user) -> str | None:
    return None if _case_of(case).earlier_case_id else "无同年同因的前次救助"


def _one_off_run(benefit_type: BenefitType, month: datetime.date) -> PaymentRun:
    """The draft one-off run of the month for 临时救助, locked for the caller; a new one when the month's
    run is missing or already locked (a locked run never changes)."""
    title = f"{benefit_type.name}{month.year}年{month.month}月一次性发放"
    run = (
        PaymentRun.objects.select_for_update()
        .filter(
            benefit_type=benefit_type,
            month=month,
            kind=PaymentRun.Kind.ONE_OFF,
            status=PaymentRun.Status.DRAFT,
            title=title,
        )
        .order_by("-id")
        .first()
    )
    if run is None:
        run = PaymentRun.objects.create(
            benefit_type=benefit_type, month=month, kind=PaymentRun.Kind.ONE_OFF, title=title
        )
        run = PaymentRun.objects.select_for_update().get(pk=run.pk)
    return run


def effect_approve(*, case: Case, transition, actor, data: dict) -> None:
    """批准: the approved amount is paid once in the decision month — an Entitlement for that month only
    and its line in the month's one-off run (the amount less any 先行救助 already handed over)."""
    temp = (
        TempAssistanceCase.objects.select_for_update(of=("self",))
        .select_related("person", "household", "case__region")
        .get(pk=case.pk)
    )
    # A non-resident (no household in the district) is paid where the emergency happened: the case's region.
    region_code = temp.household.region_code if temp.household_id else temp.region_code
    area_type = temp.household.area_type if temp.household_id else temp.case.region.area_type
    month = month_start(timezone.localdate())
    benefit_type = BenefitType.objects.get(code=BENEFIT_TYPE_CODE)
    approved = temp.proposed_amount
    advance = temp.advance_amount if temp.is_advance and temp.advance_amount else Decimal("0")
    to_pay = approved - advance
    kind = temp.get_kind_display()
    steps = [
        ["救助类型", f"{kind}（{temp.get_cause_display()}）"],
        ["审批层级", temp.get_approval_level_display()],
        ["约为城市低保月标准的倍数", f"{temp.standard_multiple.normalize():f} 倍"],
        ["批准金额", f"{approved:.2f}"],
    ]
    if advance:
        steps.append([f"已先行救助（{cn_date(temp.advance_given_on)}）", f"{advance:.2f}"])
    entitlement = entitlement_create(
        benefit_type=benefit_type,
        person=temp.person,
        case=case,
        region_code=region_code,
        area_type=area_type,
        start_month=month,
        params={
            "amount": f"{to_pay:.2f}",
            "approved_amount": f"{approved:.2f}",
            "advance_amount": f"{advance:.2f}",
            "case_number": case.number,
            "formula": f"临时救助（{kind}）批准金额 {approved:.2f} 元"
            + (f"，扣除已先行救助 {advance:.2f} 元" if advance else "")
            + "，一次性发放",
            "steps": steps,
        },
        end_month=month,  # one-off: in force for the decision month only
        actor=actor,
    )
    line = None
    calculator = get_calculator(benefit_type)
    row = {"id": entitlement.pk, "params": entitlement.params, "area_type": entitlement.area_type}
    try:
        result = calculator.compute(row, {}, StandardsInForce(), month)
    except BenefitsError as exc:
        raise TransitionError(str(exc)) from None
    if result is not None:
        run = _one_off_run(benefit_type, month)
        line = PaymentLine.objects.create(
            run=run,
            entitlement=entitlement,
            household=temp.household,
            person=temp.person,
            region_code=region_code,
            line_type=PaymentLine.LineType.ONE_OFF,
            for_month=month,
            covered_persons=1,
            base_amount=result.base_amount,
            amount=result.amount,
            change=PaymentLine.Change.NEW,
            explanation={
                "calculator": calculator.label,
                "month": month.isoformat(),
                "rounding": benefit_type.get_rounding_display(),
                **result.explanation,
                "total": f"{result.amount:.2f}",
            },
        )
        run.line_count += 1
        run.total_amount += result.amount
        run.calculated_at = timezone.now()
        run.calculated_by = actor
        run.save(update_fields=["line_count", "total_amount", "calculated_at", "calculated_by"])
    record_decide(
        temp,
        approved=True,
        reasons=last_comment(case),
        actor=actor,
        approved_amount=approved,
        payment_line=line,
    )


def effect_refuse(*, case: Case, transition, actor, data: dict) -> None:
    """不予救助 with the written reasons the transition required."""
    temp = TempAssistanceCase.objects.select_for_update().get(pk=case.pk)
    record_decide(temp, approved=False, reasons=last_comment(case), actor=actor)


# ---------------------------------------------------------------------------------------------------
# Application
# ---------------------------------------------------------------------------------------------------


def _check_advance(
    given_on: datetime.date | None, amount, errors: dict[str, str], *, today: datetime.date
) -> Decimal | None:
    if given_on is None:
        errors["advance_given_on"] = "请填写先行救助日期"
    elif given_on > today:
        errors["advance_given_on"] = "先行救助日期不能晚于今天"
    return _decimal(amount, "advance_amount", "先行救助金额", errors)


def _check_application(
    *,
    kind: str,
    cause: str,
    cause_detail: str,
    applied_on: datetime.date,
    is_advance: bool,
    advance_given_on: datetime.date | None,
    advance_amount,
    errors: dict[str, str],
    today: datetime.date,
) -> tuple[str, Decimal | None]:
    """The application's own fields (type, cause, explanation, date, 先行救助): cleaned explanation and
    advance amount, the errors by field name added to `errors`."""
    if kind not in TempAssistanceKind.values:
        errors["kind"] = "请选择救助类型"
    if cause not in TempAssistanceCause.values:
        errors["cause"] = "请选择困难原因"
    elif kind in KIND_CAUSES and cause not in KIND_CAUSES[kind]:
        errors["cause"] = (
            f"“{TempAssistanceCause(cause).label}”不属于{TempAssistanceKind(kind).label}临时救助"
        )
    cause_detail = (cause_detail or "").strip()
    if not cause_detail:
        errors["cause_detail"] = "请填写困难情况说明"
    if applied_on > today:
        errors["applied_on"] = "申请日期不能晚于今天"
    advance = None
    if is_advance:
        advance = _check_advance(advance_given_on, advance_amount, errors, today=today)
    return cause_detail, advance


def _open_case(
    *,
    person: Person,
    household,
    region,
    actor,
    kind: str,
    cause: str,
    cause_detail: str,
    applied_on: datetime.date,
    is_advance: bool,
    advance_given_on: datetime.date | None,
    advance: Decimal | None,
    emergency_address: str = "",
) -> TempAssistanceCase:
    """Open the case (of a household member, or — household None — of a non-resident scoped by `region`),
    log the 先行救助, and refuse a repeated help for the same cause in the same year at once."""
    earlier = earlier_same_cause(person, cause, applied_on.year)
    comment = f"临时救助申请登记（{TempAssistanceKind(kind).label}，{TempAssistanceCause(cause).label}）"
    fields = {
        "person": person,
        "kind": kind,
        "cause": cause,
        "cause_detail": cause_detail,
        "applied_on": applied_on,
        "year": applied_on.year,
        "is_advance": bool(is_advance),
        "advance_given_on": advance_given_on if is_advance else None,
        "advance_amount": advance,
        "earlier_case": earlier,
        "emergency_address": emergency_address,
    }
    if household is not None:
        temp = workflow_services.application_create(
            TempAssistanceCase,
            case_type=CASE_TYPE_CODE,
            household=household,
            applicant_person=person,
            actor=actor,
            comment=comment,
            **fields,
        )
    else:
        # No household: the case engine numbers and scopes the case by the community of the emergency.
        try:
            case = workflow_services.case_create(
                case_type=CASE_TYPE_CODE,
                applicant_person=person,
                region=region,
                actor=actor,
                comment=f"{comment}；非本区户籍，急难发生地：{emergency_address}",
            )
        except TransitionError as exc:
            raise ValidationError(exc.message) from None
        temp = TempAssistanceCase.objects.create(
            case=case, household=None, region_code=region.code, created_by=actor, **fields
        )
    case = temp.case
    if is_advance:
        _log_advance(case, actor, advance_given_on, advance)
    if earlier is not None:
        reason = (
            f"{person.name}已于{earlier.applied_on.year}年因“{earlier.get_cause_display()}”申请临时救助"
            f"（案件编号 {earlier.case.number}），同一救助对象同一原因一年内只救助一次，本次不予重复救助。"
        )
        workflow_services.case_transition(case=case, name="reject_duplicate", actor=actor, comment=reason)
        temp.refresh_from_db()
    return temp


@transaction.atomic
def temp_case_create(
    *,
    person: Person,
    actor,
    kind: str,
    cause: str,
    cause_detail: str,
    applied_on: datetime.date | None = None,
    is_advance: bool = False,
    advance_given_on: datetime.date | None = None,
    advance_amount=None,
) -> TempAssistanceCase:
    """申请登记 of one person. When the same person was already helped (or is being helped) for the same
    cause in the same calendar year, the application is still recorded — linked to the earlier case and
    refused at once with that reason — so the applicant gets a written answer. Bad input changes nothing."""
    person = applicant_person_lock(person, actor)
    household = person.household
    today = timezone.localdate()
    applied_on = applied_on or today
    errors: dict[str, str] = {}
    problem = applicant_person_problem(person)
    if problem:
        errors["person"] = problem
    cause_detail, advance = _check_application(
        kind=kind,
        cause=cause,
        cause_detail=cause_detail,
        applied_on=applied_on,
        is_advance=is_advance,
        advance_given_on=advance_given_on,
        advance_amount=advance_amount,
        errors=errors,
        today=today,
    )
    if errors:
        raise ValidationError(errors)
    return _open_case(
        person=person,
        household=household,
        region=household.region,
        actor=actor,
        kind=kind,
        cause=cause,
        cause_detail=cause_detail,
        applied_on=applied_on,
        is_advance=is_advance,
        advance_given_on=advance_given_on,
        advance=advance,
    )


# The person fields of the non-resident create page (the registry's person_register_nonresident data).
NONRESIDENT_PERSON_FIELDS = ("name", "id_type", "id_number", "birth_date", "sex", "phone", "hukou_place")


@transaction.atomic
def temp_case_create_nonresident(
    *,
    actor,
    region,
    person_data: dict,
    emergency_address: str,
    kind: str,
    cause: str,
    cause_detail: str,
    applied_on: datetime.date | None = None,
    is_advance: bool = False,
    advance_given_on: datetime.date | None = None,
    advance_amount=None,
) -> TempAssistanceCase:
    """申请登记 of a person without a household in the district (a traveller, a migrant), helped where the
    emergency happened (急难发生地, DOMAIN.md): the person is registered without a household — or found
    again by the ID number, so "one help per cause and year" counts their earlier help — and the case is
    scoped by `region`, the community of the emergency, which must be in the caseworker's scope.
    Every error (the person's and the application's) is reported at once; nothing is saved then."""
    from core.registry.services import person_register_nonresident

    today = timezone.localdate()
    applied_on = applied_on or today
    errors: dict[str, str] = {}
    emergency_address = (emergency_address or "").strip()
    if not emergency_address:
        errors["emergency_address"] = "请填写急难发生地详细地址"
    elif len(emergency_address) > 200:
        errors["emergency_address"] = "急难发生地不能超过200个字"
    cause_detail, advance = _check_application(
        kind=kind,
        cause=cause,
        cause_detail=cause_detail,
        applied_on=applied_on,
        is_advance=is_advance,
        advance_given_on=advance_given_on,
        advance_amount=advance_amount,
        errors=errors,
        today=today,
    )
    try:
        person = person_register_nonresident(region=region, data=person_data, actor=actor, on_date=today)
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors} if hasattr(exc, "error_dict") else errors
        if not hasattr(exc, "error_dict"):
            errors["__all__"] = exc.messages
        raise ValidationError(errors) from None
    if errors:
        raise ValidationError(errors)
    return _open_case(
        person=person,
        household=None,
        region=region,
        actor=actor,
        kind=kind,
        cause=cause,
        cause_detail=cause_detail,
        applied_on=applied_on,
        is_advance=is_advance,
        advance_given_on=advance_given_on,
        advance=advance,
        emergency_address=emergency_address,
    )


def _locked(temp: TempAssistanceCase, actor) -> TempAssistanceCase:
    return record_lock(TempAssistanceCase, temp, actor, related=("case", "person", "household"), what="案件")


def _log_advance(case: Case, actor, given_on: datetime.date, amount: Decimal) -> None:
    case_log_action(
        case=case,
        name="temp_advance",
        label="登记先行救助",
        actor=actor,
        comment=f"{cn_date(given_on)}先行救助 {amount:.2f} 元，后补办审批手续",
        data={"given_on": given_on.isoformat(), "amount": f"{amount:.2f}"},
    )


@transaction.atomic
def temp_advance_record(
    *, temp: TempAssistanceCase, actor, given_on: datetime.date | None, amount
) -> TempAssistanceCase:
    """先行救助: help already given in an emergency (date, amount); the paperwork follows (民发〔2018〕23号).
    Recorded once, while the case is open and before its approval."""
    if not actor.has_perm("workflow.add_case"):
        raise TransitionError("您没有登记先行救助的权限")
    temp = _locked(temp, actor)
    case = temp.case
    if not case.is_open:
        raise TransitionError("案件已办结，不能登记先行救助")
    if temp.is_advance:
        raise TransitionError("本案件已登记先行救助")
    errors: dict[str, str] = {}
    value = _check_advance(given_on, amount, errors, today=timezone.localdate())
    if errors:
        raise ValidationError(errors)
    temp.is_advance = True
    temp.advance_given_on = given_on
    temp.advance_amount = value.quantize(CENT)
    temp.save(update_fields=["is_advance", "advance_given_on", "advance_amount"])
    _log_advance(case, actor, given_on, temp.advance_amount)
    return temp


def _fen(value, field: str, label: str, errors: dict[str, str]) -> Decimal | None:
    number = _decimal(value, field, label, errors)
    if number is not None and number != number.quantize(CENT):
        errors[field] = f"{label}最多两位小数"
        return None
    return number


@transaction.atomic
def temp_proposal_record(
    *, temp: TempAssistanceCase, actor, findings: str, amount=None, standard_multiple=None
) -> Proposal:
    """调查核实 and 拟救助金额, decided in 元 to the fen. `amount` is the decided amount; when it is left
    empty, `standard_multiple` fills it (multiple × the monthly urban 低保 standard in force, to the fen).
    The amount may not exceed the cap (Parameter temp.max_standard_multiple × the standard) on the day it
    is decided; the approval level follows it exactly at the township's limits (temp.township_limit_*)."""
    if not actor.has_perm("workflow.add_case"):
        raise TransitionError("您没有登记调查核实情况的权限")
    temp = _locked(temp, actor)
    case = temp.case
    if case.status != TempStatus.INVESTIGATION:
        raise TransitionError(f"案件当前状态为“{case.status_label}”，不能登记拟救助金额")
    today = timezone.localdate()
    try:
        limits = limits_on(temp.kind, today)
    except (BenefitsError, BenefitType.DoesNotExist) as exc:
        raise TransitionError(str(exc) or "城市低保标准未设置，无法计算拟救助金额") from None
    errors: dict[str, str] = {}
    value = None
    if amount not in (None, ""):
        value = _fen(amount, "amount", "拟救助金额", errors)
    elif standard_multiple not in (None, ""):
        multiple = _fen(standard_multiple, "standard_multiple", "倍数", errors)
        if multiple is not None:
            value = amount_from_multiple(multiple, limits)
    else:
        errors["amount"] = "请填写拟救助金额（元），或填写城市低保月标准的倍数"
    if value is not None and value > limits.cap:
        field = "amount" if amount not in (None, "") else "standard_multiple"
        errors[field] = (
            f"拟救助金额不能超过城市低保月标准的 {limits.cap_multiple.normalize():f} 倍"
            f"（{_money(limits.cap)} 元）"
        )
    findings = (findings or "").strip()
    if not findings:
        errors["findings"] = "请填写调查核实情况"
    if errors:
        raise ValidationError(errors)
    proposal = proposal_for(temp.kind, value, today)
    temp.standard_multiple = proposal.multiple
    temp.proposed_amount = proposal.amount
    temp.approval_level = proposal.level
    temp.save(update_fields=["standard_multiple", "proposed_amount", "approval_level"])
    case_log_action(
        case=case,
        name="temp_proposal",
        label="登记调查核实情况和拟救助金额",
        actor=actor,
        comment=f"{findings}\n拟救助金额：{proposal.explanation}",
        data={
            "amount": f"{proposal.amount:.2f}",
            "level": proposal.level,
            "multiple": f"{proposal.multiple}",
        },
    )
    return proposal


# Transitions a caseworker may trigger from the case page with a comment.
PAGE_TRANSITIONS = (
    "accept",
    "submit_township",
    "submit_district",
    "township_approve",
    "township_refuse",
    "approve",
    "refuse",
    "send_back",
    "withdraw",
)


@transaction.atomic
def temp_transition(*, temp: TempAssistanceCase, name: str, actor, comment: str = "") -> Case:
    """受理, 报批 (township or district by the amount), 审批同意 / 不予救助 (written reasons), 退回, 撤回 —
    the case engine checks guard, permission, scope and maker-checker."""
    if name not in PAGE_TRANSITIONS:
        raise TransitionError("请求无效，请重试")
    temp = _locked(temp, actor)
    return workflow_services.case_transition(
        case=temp.case, name=name, actor=actor, comment=(comment or "").strip()
    )


@transaction.atomic
def temp_submit(*, temp: TempAssistanceCase, actor, comment: str = "") -> Case:
    """报批: to the township within its limit, to the district above it."""
    temp = _locked(temp, actor)
    name = (
        "submit_district" if temp.approval_level == TempAssistanceCase.Level.DISTRICT else "submit_township"
    )
    return workflow_services.case_transition(case=temp.case, name=name, actor=actor, comment=comment)


def decision_deadline(temp: TempAssistanceCase) -> datetime.date | None:
    from core.workflow.calendar import add_working_days

    from .case_types import DECISION_WORKING_DAYS

    if temp.case.accepted_on is None:
        return None
    return add_working_days(temp.case.accepted_on, DECISION_WORKING_DAYS)


def same_cause_cases(temp: TempAssistanceCase):
    """Other cases of the same person and cause in the same year (for the case page)."""
    return (
        TempAssistanceCase.objects.filter(person_id=temp.person_id, cause=temp.cause, year=temp.year)
        .filter(~Q(pk=temp.pk))
        .select_related("case")
        .order_by("created_at")
    )
