"""Writes of the benefits engine: entitlements, monthly payment runs, their recalculation and locking.

Recalculation (DESIGN.md "Recalculation, concretely"): for one benefit type and month, read the
entitlements in force with values() in one query, the standards in force (a handful of rows), the facts the
calculator needs in one or a few aggregate queries; compute in Python with Decimal; delete the draft run's
lines and write the new ones in bulk (COPY on PostgreSQL, bulk_create elsewhere). Rerunning is idempotent.
A locked run never changes: corrections for locked months (补发 for a raised standard, 扣回 for a
late-reported death) go into the next draft run as adjustment lines referencing the original month."""

from __future__ import annotations

import datetime
import logging
import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import DO_NOTHING, Count, Q, Sum, signals
from django.db.models.deletion import get_candidate_relations_to_delete
from django.utils import timezone

from core.accounts.models import Role
from core.accounts.sections import has_section_role
from core.memory import cyclic_gc_paused
from core.registry.choices import SCOPE_DIGITS
from core.registry.querysets import user_scope_prefix

from .calculators import ZERO, Calculator, LineResult, get_calculator
from .exceptions import (
    BenefitsError,
    CalculationError,
    PaymentRunLocked,
    RunOutsideScope,
    SectionRoleRequired,
)
from .models import BenefitType, Entitlement, PaymentLine, PaymentRun, Standard
from .months import add_months, month_start
from .selectors import (
    RECOMPUTED_FROM_REGULAR,
    RECOMPUTED_WITHOUT,
    Part,
    StandardsInForce,
    entitlement_covered_message,
    entitlement_covering,
    entitlement_id_parts,
    entitlements_in_force,
    entitlements_in_force_between,
    in_part,
    recalculation_parts,
    row_in_force,
    run_line_bounds,
    scope_holds_run,
    standards_in_force_by_month,
)
from .summaries import SummarySums, summarize_run

logger = logging.getLogger(__name__)

#: How far back locked months are re-checked for 补发/扣回 (months before the run's month).
ADJUSTMENT_LOOKBACK_MONTHS = 12

LineType = PaymentLine.LineType
Change = PaymentLine.Change

_LINE_COLUMNS = (
    "run_id",
    "entitlement_id",
    "household_id",
    "person_id",
    "region_code",
    "line_type",
    "for_month",
    "covered_persons",
    "base_amount",
    "increment_amount",
    "other_amount",
    "amount",
    "change",
    "explanation",
)


def _cn_month(month: datetime.date) -> str:
    return f"{month.year}年{month.month}月"


# ---------------------------------------------------------------------------------------------------
# Entitlements
# ---------------------------------------------------------------------------------------------------


@transaction.atomic
def entitlement_create(
    *,
    benefit_type: BenefitType,
    person=None,
    household=None,
    case=None,
    region_code: str,
    area_type: str,
    start_month: datetime.date,
    params: dict[str, Any] | None = None,
    end_month: datetime.date | None = None,
    actor=None,
) -> Entitlement:
    """Create the entitlement an approved case grants (paid from `start_month`, open-ended unless
    `end_month` is given). One entitlement of a monthly benefit per beneficiary at a time: refused (a
    Chinese ValidationError) when the person — or, for a household benefit, the household — already has
    one of the type covering any of the months, which the next run would pay twice. One-off benefits
    (临时救助, not `is_monthly`) may be granted again."""
    errors: dict[str, str] = {}
    if person is None and household is None:
        errors["person"] = "待遇资格须指定享受人或享受家庭"
    if not (len(region_code) == 12 and region_code.isdigit()):
        errors["region_code"] = "区划代码须为12位数字"
    if area_type not in ("urban", "rural"):
        errors["area_type"] = "请选择城镇或农村"
    if start_month is None:
        errors["start_month"] = "请填写起始月份"
    if params is not None and not isinstance(params, dict):
        errors["params"] = "计算参数格式不正确"
    if (
        end_month is not None
        and start_month is not None
        and month_start(end_month) < month_start(start_month)
    ):
        errors["end_month"] = "终止月份不能早于起始月份"
    if errors:
        raise ValidationError(errors)
    start_month = month_start(start_month)
    end_month = month_start(end_month) if end_month is not None else None
    if benefit_type.is_monthly:
        _refuse_covered(benefit_type, person, household, start_month, end_month)
    try:
        with transaction.atomic():
            return Entitlement.objects.create(
                benefit_type=benefit_type,
                person=person,
                household=household,
                case=case,
                region_code=region_code,
                area_type=area_type,
                start_month=start_month,
                end_month=end_month,
                params=params or {},
            )
    except IntegrityError:
        # Granted by another transaction a moment ago (the one-open-entitlement constraints): the same
        # answer as when it had committed before the check above.
        covering = entitlement_covering(
            benefit_type, person=person, household=household, first_month=start_month, last_month=end_month
        )
        if covering is None:
            raise
        raise ValidationError(entitlement_covered_message(covering)) from None


def _refuse_covered(benefit_type, person, household, start_month, end_month) -> None:
    covering = entitlement_covering(
        benefit_type, person=person, household=household, first_month=start_month, last_month=end_month
    )
    if covering is not None:
        raise ValidationError(entitlement_covered_message(covering))


@transaction.atomic
def entitlement_update_params(
    *, entitlement: Entitlement, changes: dict[str, Any], actor=None
) -> Entitlement:
    """Merge `changes` into the calculator parameters of an entitlement (e.g. a 渐退期 decided on review);
    the next recalculation reads them."""
    if not isinstance(changes, dict) or not changes:
        raise ValidationError({"params": "计算参数格式不正确"})
    locked = Entitlement.objects.select_for_update().get(pk=entitlement.pk)
    locked.params = {**(locked.params or {}), **changes}
    locked.save(update_fields=["params", "updated_at"])
    logger.info("entitlement %s params %s set by %s", locked.pk, sorted(changes), actor)
    return locked


@transaction.atomic
def entitlement_end(
    *, entitlement: Entitlement, last_month: datetime.date, reason: str, actor=None
) -> Entitlement:
    """End an entitlement after `last_month` (the last month paid). Ending never extends: an entitlement
    that already ends earlier keeps its end. Months already locked after `last_month` are recovered by the
    next run's 扣回 lines."""
    entitlement = Entitlement.objects.select_for_update().get(pk=entitlement.pk)
    last_month = month_start(last_month)
    if not reason.strip():
        raise ValidationError({"reason": "请填写终止原因"})
    if entitlement.end_month is None or entitlement.end_month > last_month:
        entitlement.end_month = last_month
    entitlement.status = Entitlement.Status.ENDED
    entitlement.end_reason = reason.strip()[:100]
    entitlement.save(update_fields=["end_month", "status", "end_reason", "updated_at"])
    logger.info("entitlement %s ended after %s (%s) by %s", entitlement.pk, last_month, reason, actor)
    return entitlement


def entitlements_stop_for_death(event, actor) -> int:
    """Life-event subscriber (kind "death"): the person's own entitlements end with the month of death, so
    they stop from the next month (《殡葬管理条例》; DOMAIN.md 殡葬). Household entitlements are left to
    their calculators, which count living members. Runs inside the registry's transaction."""
    death_month = month_start(event.event_date)
    updated = Entitlement.objects.filter(
        Q(end_month__isnull=True) | Q(end_month__gt=death_month), person_id=event.person_id
    ).update(
        end_month=death_month,
        status=Entitlement.Status.ENDED,
        end_reason="享受人死亡",
        updated_at=timezone.now(),
    )
    logger.info("death of person %s: %s entitlement(s) end with %s", event.person_id, updated, death_month)
    return updated


# ---------------------------------------------------------------------------------------------------
# Payment runs
# ---------------------------------------------------------------------------------------------------


@dataclass
class _Computed:
    row: dict
    result: LineResult


# One encoder for every line's explanation: orjson (six times faster than the json module's C encoder on a
# 低保 explanation; 152,000 of them in a city's run), with DjangoJSONEncoder's conversions for what orjson
# does not write itself — Decimals, dates and times (as Django writes them), lazy translations — and
# non-string keys turned into strings, as the json module does.
_JSON_DEFAULT = DjangoJSONEncoder().default
_JSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def _encode_json(value: Any) -> str:
    return orjson.dumps(value, default=_JSON_DEFAULT, option=_JSON_OPTIONS).decode()


def _jsonable(value: Any) -> Any:
    return orjson.loads(_encode_json(value))


def _household_of(row: dict) -> int | None:
    return row.get("household_id") or row.get("person_household_id")


def _checked(
    calculator: Calculator, row: dict, result: LineResult | None, month: datetime.date
) -> LineResult | None:
    """Round every amount to the benefit's unit and check that the total is the sum of its parts."""
    if result is None:
        return None
    round_ = calculator.round
    amount = round_(result.amount)
    base, increment, other = (
        round_(result.base_amount),
        round_(result.increment_amount),
        round_(result.other_amount),
    )
    if amount < 0:
        raise CalculationError(
            f"待遇资格 #{row['id']} {_cn_month(month)}计算结果为负数（{amount}），请检查计算规则。"
        )
    if amount != base + increment + other:
        raise CalculationError(
            f"待遇资格 #{row['id']} {_cn_month(month)}合计金额 {amount} 不等于基本金额、分类施保金额与其他金额之和。"
        )
    # The calculator's result is updated in place (it is not shared). Run-level facts go first, so the
    # calculator's own keys win.
    result.amount, result.base_amount, result.increment_amount, result.other_amount = (
        amount,
        base,
        increment,
        other,
    )
    result.covered_persons = max(int(result.covered_persons or 0), 0)
    result.explanation = {
        **_run_facts(calculator, month),
        **(result.explanation or {}),
        "total": str(amount),  # two decimal places: Calculator.round always quantizes to the fen
    }
    return result


def _run_facts(calculator: Calculator, month: datetime.date) -> dict[str, str]:
    cache = calculator.__dict__.setdefault("_run_facts_cache", {})
    if month not in cache:
        cache[month] = {
            "calculator": calculator.label or type(calculator).__name__,
            "month": month.isoformat(),
            "rounding": calculator.benefit_type.get_rounding_display(),
        }
    return cache[month]


def _compute_month(
    calculator: Calculator, rows: list[dict], facts: dict, standards: StandardsInForce, month: datetime.date
) -> dict[int, _Computed]:
    """{entitlement id: computed line} for the rows paid something this month (amount > 0)."""
    computed = {}
    for row in rows:
        result = _checked(calculator, row, calculator.compute(row, facts, standards, month), month)
        if result is not None and result.amount != 0:
            computed[row["id"]] = _Computed(row, result)
    return computed


def _line(run: PaymentRun, **values: Any) -> dict[str, Any]:
    return {"run_id": run.pk, **values}


def _regular_lines(
    run: PaymentRun,
    calculator: Calculator,
    rows: list[dict],
    facts: dict,
    standards: StandardsInForce,
    previous: dict[int, dict],
) -> Iterator[dict[str, Any]]:
    """This month's lines with change flags against the previous month's run (新增 / 调标 / 停发), yielded
    as each is computed so that the COPY writing them runs while the next ones are computed."""
    month, run_id = run.month, run.pk
    paid = set()
    for row in rows:
        result = _checked(calculator, row, calculator.compute(row, facts, standards, month), month)
        if result is None or result.amount == 0:
            continue
        entitlement_id = row["id"]
        paid.add(entitlement_id)
        before = previous.get(entitlement_id)
        if before is None:
            change = Change.NEW
        elif before["amount"] != result.amount:
            change = Change.CHANGED
            result.explanation["previous_amount"] = f"{before['amount']:.2f}"
        else:
            change = Change.UNCHANGED
        yield {  # _line(), as a literal: one dict per line instead of two
            "run_id": run_id,
            "entitlement_id": entitlement_id,
            "household_id": _household_of(row),
            "person_id": row["person_id"],
            "region_code": row["region_code"],
            "line_type": LineType.REGULAR,
            "for_month": month,
            "covered_persons": result.covered_persons,
            "base_amount": result.base_amount,
            "increment_amount": result.increment_amount,
            "other_amount": result.other_amount,
            "amount": result.amount,
            "change": change,
            "explanation": result.explanation,
        }
    # 停发: paid last month, nothing this month — a zero line so the roster shows who stopped and why (the
    # entitlement's end and status read in one query, for these few only).
    stopped = [entitlement_id for entitlement_id in previous if entitlement_id not in paid]
    ends = {}
    if stopped:
        with _reads_before_writes():  # the part's regular lines are being written meanwhile
            ends = {
                pk: (end_month, end_reason, status)
                for pk, end_month, end_reason, status in Entitlement.objects.filter(pk__any_of=stopped)
                .order_by()
                .values_list("pk", "end_month", "end_reason", "status")
            }
    for entitlement_id in stopped:
        before = previous[entitlement_id]
        end_month, end_reason, status = ends[entitlement_id]
        if end_month is not None and end_month < month:
            reason = f"待遇已于{_cn_month(end_month)}终止（{end_reason or '未注明原因'}）"
        elif status == Entitlement.Status.SUSPENDED:
            reason = "待遇暂停发放"
        else:
            reason = "本月计算金额为零"
        yield _line(
            run,
            entitlement_id=entitlement_id,
            household_id=before["household_id"],
            person_id=before["person_id"],
            region_code=before["region_code"],
            line_type=LineType.REGULAR,
            for_month=month,
            covered_persons=0,
            base_amount=ZERO,
            increment_amount=ZERO,
            other_amount=ZERO,
            amount=ZERO,
            change=Change.STOPPED,
            explanation={
                "formula": f"本月停发：{reason}",
                "steps": [["上月发放金额", f"{before['amount']:.2f}"], ["本月发放金额", "0.00"]],
                "previous_amount": f"{before['amount']:.2f}",
                "stop_reason": reason,
                "month": month.isoformat(),
            },
        )


def _lines_of_part(part: Part | None, entitlement_ids: Sequence[int] | None = None) -> Q:
    """The lines (of any run) of a part's entitlements: by the entitlement's region (where it is
    recalculated now), not the line's (where it was paid), or by entitlement id (an IdRange).

    `entitlement_ids`, the part's entitlements of the run's type when the caller read them (a street's, in
    `_recalculate_part`), select the lines by id alone, served by the (entitlement, for_month) and
    (run, entitlement, …) indexes: through the region, PostgreSQL joined every entitlement of the streets —
    of every type — to the lines, a part's paid sums returning five times the one transaction's tuples
    (benchmarks/README.md, "The by-street path's reading")."""
    if entitlement_ids is not None:
        return Q(entitlement__any_of=list(entitlement_ids))
    return in_part(part, "entitlement__region_code")


def _previous_month_paid(
    benefit_type: BenefitType, month: datetime.date, of_part: Q | None = None
) -> dict[int, dict]:
    """{entitlement id: its regular line paid in the previous month's run (any status)} — one query of the
    lines alone, of a part's entitlements (`of_part`: `_lines_of_part`; None = all)."""
    previous_run = (
        PaymentRun.objects.filter(
            benefit_type=benefit_type, kind=PaymentRun.Kind.MONTHLY, month=add_months(month, -1)
        )
        .values_list("pk", flat=True)
        .first()
    )
    if previous_run is None:
        return {}
    rows = (
        PaymentLine.objects.filter(
            of_part or Q(),
            run_id=previous_run,
            line_type=LineType.REGULAR,
            amount__gt=0,
        )
        .order_by()  # not the model's ordering: it joined the run and the benefit type to sort 90,000 lines
        .values_list("entitlement_id", "amount", "household_id", "person_id", "region_code")
    )
    return {
        entitlement_id: {
            "amount": amount,
            "household_id": household_id,
            "person_id": person_id,
            "region_code": region_code,
        }
        for entitlement_id, amount, household_id, person_id, region_code in rows
    }


#: Above this many entitlements to re-check, a locked month's paid sums are read for its whole part.
_FEW_IDS = 1000


def _paid_in_locked_runs(
    benefit_type: BenefitType, plan: Mapping[datetime.date, set[int] | None], of_part: Q | None = None
) -> dict[tuple[int, datetime.date], tuple[Decimal, Decimal, Decimal, Decimal]]:
    """What was paid per (entitlement, month) in locked runs: the month's regular line plus every 补发/扣回
    for that month in later locked runs, as (amount, base, increment, other) — at most two aggregate
    queries for all months, of the entitlements each month re-checks (`plan`: None = all of them). The lines alone, grouped
    by their two keys (served by the (entitlement, for_month) index): the entitlements' own columns are
    read only for the few entitlements paid but no longer due (`_entitlements_no_longer_due`) — joined and
    grouped by for every line, they made this query ten times dearer for a 提标's three months."""
    # A month re-checking many entitlements (a 提标 of one 城乡: its entitlements, nearly the whole part)
    # is read like a month re-checked in full — the part's lines of that month; the extra ones are not
    # candidates (_adjustment_lines) — so that the few ids of the other months are not asked of every
    # month: one ANY(ids) for all of them would read the part's whole year of lines.
    full = [m for m, ids in plan.items() if ids is None or len(ids) > _FEW_IDS]
    some = [m for m, ids in plan.items() if ids and len(ids) <= _FEW_IDS]
    wanted = sorted(set().union(*(plan[m] for m in some))) if some else []
    locked_runs = list(
        PaymentRun.objects.filter(benefit_type=benefit_type, status=PaymentRun.Status.LOCKED)
        .order_by()  # not the model's ordering: it joined the benefit type
        .values_list("pk", flat=True)
    )
    # Two queries rather than one with OR: each is then an index condition on (entitlement, for_month) —
    # the part's entitlements in the months re-checked in full, the few changed ones in the others — where
    # the OR made the planner intersect the run index (a million locked lines) with every line of the
    # part's entitlements of the whole year, and filter the months after reading them.
    conditions = []
    if full:
        conditions.append(Q(of_part or Q(), for_month__in=full))
    if wanted:
        conditions.append(Q(for_month__in=some, entitlement__any_of=wanted))
    paid = {}
    for condition in conditions if locked_runs else ():
        rows = (
            PaymentLine.objects.filter(condition, run_id__any_of=locked_runs)
            .values_list("entitlement_id", "for_month")
            .annotate(Sum("amount"), Sum("base_amount"), Sum("increment_amount"), Sum("other_amount"))
            .order_by()
        )
        paid.update(
            {(e, m): (amount, base, increment, other) for e, m, amount, base, increment, other in rows}
        )
    return paid


def _entitlements_no_longer_due(ids: Iterable[int], rows: Iterable[dict] = ()) -> dict[int, dict]:
    """{entitlement id: what an adjustment line needs of it} for entitlements paid in a locked month that
    may not be due now (ended, suspended, no longer eligible), of those paid in the months re-checked
    (the few changed ones; all of a type's after a 提标 for both 城乡).

    `rows`, the part's entitlements as _part_lines read them (in force in the look-back year, not
    suspended), answer for the open-ended ones among them: their region, household and person are the
    ones read (an open-ended entitlement's end reason is never shown). One query for the rest — those
    ended, suspended or not read — by id: asking it for every id paid (after a 提标, the part's every
    entitlement, joined to its person) was 3–4 s of a steady-state month (benchmarks/README.md)."""
    wanted = set(ids)
    known = {}
    for row in rows:
        pk = row["id"]
        if pk in wanted and row["end_month"] is None:
            known[pk] = {
                "pk": pk,
                "region_code": row["region_code"],
                "household_id": row["household_id"],
                "person_id": row["person_id"],
                "person__household_id": row["person_household_id"],
                "status": row["status"],
                "end_month": None,
                "end_reason": "",
            }
    # Asked even when empty: the run's queries do not depend on its data.
    asked = sorted(wanted.difference(known))
    found = Entitlement.objects.filter(pk__any_of=asked).values(
        "pk",
        "region_code",
        "household_id",
        "person_id",
        "person__household_id",
        "status",
        "end_month",
        "end_reason",
    )
    known.update((row["pk"], row) for row in found)
    return known


def _adjustment_lines(
    run: PaymentRun,
    calculator: Calculator,
    plan: Mapping[datetime.date, set[int] | None],
    rows_by_month: dict[datetime.date, list[dict]],
    facts_by_month: dict[datetime.date, dict],
    standards_by_month: dict[datetime.date, StandardsInForce],
    of_part: Q | None = None,
    current: Mapping[int, dict] | None = None,
    rows: Iterable[dict] = (),
) -> Iterator[dict[str, Any]]:
    """补发/扣回: recompute locked months with today's facts and standards; the difference against what was
    paid for that month (its regular line and every later 补发/扣回 for it) becomes a line in this run with
    for_month = the original month.

    Each line keeps the recomputed month's explanation; when the entitlement has a paid regular line in
    this run (`current`: {entitlement id: its explanation}), only what differs from that line's explanation
    (`_recomputed_by_difference`; `selectors.restore_recomputed` puts it back together for the pages). A 提标
    three months back writes 270,000 such lines for a city, nearly all of them the month itself's figures.
    `rows`: the part's entitlements as read for it (_part_lines), which answer for most of those a month
    finds paid but not due (_entitlements_no_longer_due).

    Only what can have changed since a locked month was calculated is recomputed (`plan`, from
    `_recheck_plan`: the entitlement ids each locked month re-checks, None = all of them; `rows_by_month`
    of a locked month holds only those). The rule: a locked month's payments equal what the engine computed
    from the data as it stood when that month's calculation began (t0 = the run's calc_started_at, less
    settings.BENEFITS_RECHECK_MARGIN_SECONDS), and every later locked run brought them back to what the data
    said then (its own 补发/扣回), so an entitlement whose inputs did not change after t0 is owed exactly
    what was paid. Its inputs are: its own row (Entitlement.updated_at — every service that writes an
    entitlement bumps it: created, params, ended, stopped for a death, suspended), the benefit type's
    standards (Standard.updated_at and changed_from: a 提标 re-checks the type's entitlements of its 城乡, or
    all of them, for the months from its effective date), the benefit type itself (its rounding), and the
    calculator's own facts (Calculator.changed_since: the 低保 calculator's covered persons — a death or
    a birth date recorded after t0 — and its parameters; a calculator that cannot tell re-checks all).
    A month calculated before calc_started_at existed, and every month when settings.BENEFITS_FULL_RECHECK
    is set, is re-checked in full: the incremental and the full re-check write the same lines
    (tests/test_recheck_incremental.py). A change in a calculator's code is no change in data: run once
    with BENEFITS_FULL_RECHECK after one."""
    if not plan:
        return
    locked_months = sorted(plan)
    # Each locked month is computed and its lines handed on before the next month is computed: the COPY
    # writer stores one month's 补发/扣回 while the next is computed, and what is left to store when the
    # part's last line is computed is one month's, not every month's (a by-street part waits for that
    # before it commits). Read first, in one pause of the writer (the part's regular lines are being
    # written meanwhile): what was paid, and what an adjustment line needs of an entitlement a month may
    # find paid but no longer due, for every one paid in a re-checked month (used only for those not due)
    # — from the part's rows, read for those ended, suspended or not among them (one query).
    with _reads_before_writes():
        paid = _paid_in_locked_runs(calculator.benefit_type, plan, of_part)
        paid_by_month: dict[datetime.date, dict[int, tuple]] = defaultdict(dict)
        for (entitlement_id, for_month), sums in paid.items():
            paid_by_month[for_month][entitlement_id] = sums
        gone = _entitlements_no_longer_due(
            (
                entitlement_id
                for month in locked_months
                for entitlement_id in paid_by_month.get(month, ())
                if plan[month] is None or entitlement_id in plan[month]
            ),
            rows,
        )
    nothing = LineResult(amount=ZERO, covered_persons=0)
    no_sums = (ZERO, ZERO, ZERO, ZERO)

    for month in locked_months:
        due = _compute_month(
            calculator, rows_by_month[month], facts_by_month.get(month, {}), standards_by_month[month], month
        )
        paid_now = paid_by_month.get(month, {})
        candidates = set(due) | set(paid_now)
        if plan[month] is not None:
            candidates &= plan[month]
        for entitlement_id in sorted(candidates):
            item = due.get(entitlement_id)
            entitlement = gone.get(entitlement_id) if item is None else None
            if entitlement is not None and entitlement["status"] == Entitlement.Status.SUSPENDED:
                continue  # a suspension is settled when it is lifted, not by recovering its past months
            expected = item.result if item else nothing
            paid_amount, paid_base, paid_increment, paid_other = paid_now.get(entitlement_id, no_sums)
            paid_amount = paid_amount or ZERO
            difference = expected.amount - paid_amount
            if difference == 0:
                continue
            if item is not None:
                row = item.row
                household_id, person_id, region_code = (
                    _household_of(row),
                    row["person_id"],
                    row["region_code"],
                )
                reason = "按现行标准和家庭情况重新计算"
            else:
                household_id = entitlement["household_id"] or entitlement["person__household_id"]
                person_id, region_code = entitlement["person_id"], entitlement["region_code"]
                end_month = entitlement["end_month"]
                if end_month is not None and end_month < month:
                    reason = f"待遇已于{_cn_month(end_month)}终止（{entitlement['end_reason'] or '未注明原因'}），该月不应发放"
                else:
                    reason = "按现行家庭情况重新计算，该月不应发放"
            kind = LineType.BACK_PAY if difference > 0 else LineType.RECOVERY
            verb = "补发" if difference > 0 else "扣回"
            yield (
                _line(
                    run,
                    entitlement_id=entitlement_id,
                    household_id=household_id,
                    person_id=person_id,
                    region_code=region_code,
                    line_type=kind,
                    for_month=month,
                    covered_persons=expected.covered_persons,
                    base_amount=expected.base_amount - (paid_base or ZERO),
                    increment_amount=expected.increment_amount - (paid_increment or ZERO),
                    other_amount=expected.other_amount - (paid_other or ZERO),
                    amount=difference,
                    change=Change.UNCHANGED,
                    explanation=(
                        {
                            "formula": (
                                f"{_cn_month(month)}应发 {expected.amount:.2f} 元，已发 {paid_amount:.2f} 元，"
                                f"{verb} {abs(difference):.2f} 元"
                            ),
                            "steps": [
                                ["所属月份", _cn_month(month)],
                                ["重新计算应发金额", f"{expected.amount:.2f}"],
                                ["已发放金额（含以前补发/扣回）", f"{paid_amount:.2f}"],
                                [f"{verb}金额", f"{abs(difference):.2f}"],
                            ],
                            "adjustment_reason": reason,
                            "original_month": month.isoformat(),
                            **_recomputed_by_difference(
                                expected.explanation,
                                current.get(entitlement_id) if current and item is not None else None,
                            ),
                            "paid": f"{paid_amount:.2f}",
                            "difference": f"{difference:.2f}",
                        }
                    ),
                )
            )


_ABSENT = object()


def _recomputed_by_difference(explanation: dict, reference: dict | None) -> dict[str, Any]:
    """The "recomputed" part of a 补发/扣回 line's explanation: the recomputed month's explanation in full, or —
    given the explanation of the entitlement's regular line in the same run (`reference`) — the keys whose
    values differ from it, with RECOMPUTED_FROM_REGULAR set and the reference's keys it lacks listed
    (RECOMPUTED_WITHOUT). selectors.restore_recomputed rebuilds the full one; a run's lines are replaced
    together, so the reference always exists beside the line."""
    if reference is None:
        return {"recomputed": explanation}
    differs = {
        key: value
        for key, value in explanation.items()
        # The same object (the calculator's memo shares them between months) is the same value; otherwise
        # the type too: 1 == True and Decimal("1.0") == Decimal("1.00") would store one for the other.
        if (same := reference.get(key, _ABSENT)) is not value
        and (type(same) is not type(value) or same != value)
    }
    out: dict[str, Any] = {"recomputed": differs, RECOMPUTED_FROM_REGULAR: True}
    without = [key for key in reference if key not in explanation]
    if without:
        out[RECOMPUTED_WITHOUT] = without
    return out


#: Lines per COPY statement when writing a run on PostgreSQL (see _copy_lines): at most COPY_BATCH, and
#: as few as COPY_BATCH_IDLE when the writer has stored everything handed to it and waits.
COPY_BATCH = 1000
COPY_BATCH_IDLE = 250
COPY_QUEUE_LINES = 32000  # at most ~32 MB of lines formatted ahead of the writer

# The COPY writer working for this thread (_copy_lines), as the event it waits for before each statement.
_writer = threading.local()


@contextmanager
def _reads_before_writes() -> Iterator[None]:
    """Around reads made while _copy_lines writes earlier lines on this thread's connection: the writer
    finishes the COPY statement it is in and starts no other until the reads are done; outside a write,
    nothing. Both threads use one connection, one statement at a time, and the writer's statements
    followed one another while a read waited for the connection — for the writer's whole backlog: 9 of the
    55 seconds of a steady-state month (benchmarks/README.md), the computing thread idle. The backlog is
    written after the reads, while the lines they serve are computed. Never yield a line inside the block:
    the computing thread could then wait for room in the writer's queue while the writer waits for it."""
    go: threading.Event | None = getattr(_writer, "go", None)
    if go is None or not go.is_set():  # no writer, or already paused by an enclosing block
        yield
        return
    go.clear()
    try:
        yield
    finally:
        go.set()


def _write_lines(lines: Iterable[dict[str, Any]]) -> int:
    """Bulk insert, consuming `lines` as they are produced: COPY on PostgreSQL (_copy_lines), bulk_create
    in batches of 2000 elsewhere. Returns the number of lines written."""
    if connection.vendor == "postgresql":
        return _copy_lines(lines)
    written = 0
    batch: list[PaymentLine] = []
    for line in lines:
        batch.append(PaymentLine(**{**line, "explanation": _jsonable(line["explanation"])}))
        if len(batch) == 2000:
            PaymentLine.objects.bulk_create(batch)
            written, batch = written + len(batch), []
    PaymentLine.objects.bulk_create(batch)
    return written + len(batch)


# COPY's text format: fields separated by tabs, rows by newlines, NULL as \N, and these four escaped.
_COPY_NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_row(line: dict[str, Any], encode: Callable[[Any], str] = _encode_json) -> str:
    """One line as a row of COPY's text format, in _LINE_COLUMNS order. Ids, counts, amounts (Decimal) and
    the month are written with str(); text fields are escaped. The explanation's JSON needs only its
    backslashes doubled: the JSON encoder already writes tabs, newlines and returns as \\t, \\n, \\r."""
    household, person = line["household_id"], line["person_id"]
    return (
        "\t".join(
            (
                str(line["run_id"]),
                str(line["entitlement_id"]),
                _COPY_NULL if household is None else str(household),
                _COPY_NULL if person is None else str(person),
                line["region_code"].translate(_COPY_ESCAPES),
                line["line_type"].translate(_COPY_ESCAPES),
                line["for_month"].isoformat(),
                str(line["covered_persons"]),
                str(line["base_amount"]),
                str(line["increment_amount"]),
                str(line["other_amount"]),
                str(line["amount"]),
                line["change"].translate(_COPY_ESCAPES),
                encode(line["explanation"]).replace("\\", "\\\\"),
            )
        )
        + "\n"
    )


def _copy_lines(lines: Iterable[dict[str, Any]]) -> int:
    """Write lines with one COPY per COPY_BATCH lines, sent by a writer thread while this thread computes
    the next ones, each COPY checking its lines' foreign keys at its end (IMMEDIATE).

    Why: PostgreSQL checks each foreign key of each inserted row with its own lookup. Django declares them
    DEFERRABLE INITIALLY DEFERRED, so with one COPY for a whole run every check ran at COMMIT, after the
    last line was computed: 6 of the 20 seconds of a city's five runs, the database busy and Python
    idle. Checked per batch, the server does them while Python computes. This thread formats each batch
    in COPY's text format (_copy_row); the writer only sends it and waits for the server, mostly without
    the GIL. `lines` may query between batches — _recalculate_run reads the next part's entitlements and
    facts while the previous part is written — and psycopg's connection lock makes such a query wait for
    the COPY statement in progress; made within `_reads_before_writes`, for that statement only, not for
    every batch queued. Batches of 1,000 lines balance that wait against the fixed cost of starting a
    COPY: 2,000 when a read waited for the whole backlog (then measured against 500 and 5,000), 750–1,000
    since (the reads' wait 6 → 2.5 s of a steady-state month, benchmarks/README.md).

    The transaction stays the caller's: both threads use this connection, one statement at a time. Any
    error — the calculator's, or the database's in a COPY (raised here, as Django's exception) — rolls the
    whole run back. The constraints are set back to DEFERRED afterwards."""
    from psycopg import sql

    meta = PaymentLine._meta
    columns = [meta.get_field(name.removesuffix("_id")).column for name in _LINE_COLUMNS]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(meta.db_table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f' AND condeferrable",
            [meta.db_table],
        )
        constraints = ", ".join(connection.ops.quote_name(name) for (name,) in cursor.fetchall())
        if constraints:
            cursor.execute(f"SET CONSTRAINTS {constraints} IMMEDIATE")
        raw = cursor.cursor
        batches: queue.Queue[bytes | None] = queue.Queue(maxsize=max(1, COPY_QUEUE_LINES // COPY_BATCH))
        failed: list[BaseException] = []
        go = threading.Event()  # cleared while this thread reads (_reads_before_writes)
        go.set()

        def writer() -> None:
            try:
                while (data := batches.get()) is not None:
                    go.wait()
                    with raw.copy(statement) as copy:
                        copy.write(data)
                    batches.task_done()
            except BaseException as exc:  # handed to the computing thread, which raises it
                failed.append(exc)
                while batches.get() is not None:
                    batches.task_done()

        thread = threading.Thread(target=writer, name="paymentline-copy", daemon=True)
        thread.start()
        written = 0
        rows: list[str] = []
        _writer.go = go
        try:
            for line in lines:
                rows.append(_copy_row(line))
                # A full batch, or a smaller one when the writer is idle (every batch put has been stored):
                # the server is kept busy, and the last batch — stored while nothing else runs — is small.
                if len(rows) >= COPY_BATCH or (len(rows) >= COPY_BATCH_IDLE and not batches.unfinished_tasks):
                    if failed:
                        break
                    batches.put("".join(rows).encode())
                    written, rows = written + len(rows), []
            else:
                if rows:
                    batches.put("".join(rows).encode())
                    written += len(rows)
                computed = getattr(_writer, "on_computed", None)
                # Every line computed, the writer's backlog left: the next part may start
                # (payment_run_recalculate_parts).
                if computed is not None:
                    computed()
        finally:
            _writer.go = None
            go.set()
            batches.put(None)
            thread.join()
            if failed:  # the database refused a batch: its error, not what it caused here, is the cause
                with connection.wrap_database_errors:
                    raise failed[0]
        if constraints:
            cursor.execute(f"SET CONSTRAINTS {constraints} DEFERRED")
    return written


#: The ids of a part's lines in a draft run on PostgreSQL: for each of the part's entitlement ids (one bound
#: array), its lines in the run through the (run, entitlement, …) unique index — a nested loop the
#: planner cannot flatten (`OFFSET 0`), the run's id an uncorrelated subquery it plans without seeing.
#: See _part_line_ids for why.
PART_LINE_IDS = (
    "SELECT line.id FROM unnest(%s::bigint[]) AS part(entitlement_id) CROSS JOIN LATERAL ("
    "SELECT id FROM {table} WHERE run_id = (SELECT CAST(%s AS bigint))"
    " AND entitlement_id = part.entitlement_id OFFSET 0) AS line"
)


def _part_line_ids(run: PaymentRun, entitlement_ids: list[int]) -> list[int]:
    """The ids of the draft run's lines of these entitlements (a by-street part's, any status).

    On PostgreSQL one index descent per entitlement into (run, entitlement, …) (PART_LINE_IDS). Plainer
    statements were planned against the run's growing lines: a draft run's id lies outside the line
    table's most-common values, estimated at ~1 line, so `run_id = <id> AND entitlement_id = ANY(…)` was
    served from (run, region_code) with the entitlements as a filter — each part read every line the
    parts before it had committed (1.28 s a street at the end of a city's 低保 run for the DELETE, 0.36 s
    for the probe of referencing rows); the run's id as a subquery still left the planner that choice
    when the run's lines were few against the part's ids (tests/test_performance_guards.py); and with the
    run's index out of use (`run_id + 0`) each part read every locked month's lines of its entitlements
    through (entitlement, for_month), 53 ms a street, ~3.5 s of the five types (benchmarks/README.md,
    "The bench's database vacuumed" and "The by-street path's reading")."""
    if connection.vendor != "postgresql":
        return list(
            PaymentLine.objects.filter(run=run, entitlement__in=entitlement_ids)
            .order_by()
            .values_list("pk", flat=True)
        )
    table = connection.ops.quote_name(PaymentLine._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(PART_LINE_IDS.format(table=table), [entitlement_ids, run.pk])
        return [pk for (pk,) in cursor.fetchall()]


def _delete_draft_lines(
    run: PaymentRun, part: Part | None = None, entitlement_ids: list[int] | None = None
) -> None:
    """Delete a draft run's lines (of one part: the lines of the entitlements in that street) with one
    DELETE statement.

    QuerySet.delete() loads every line as a model instance (decoding its explanation JSON) to look for
    protected or cascading references as soon as any model points at PaymentLine — assistance's 临时救助
    case does, with PROTECT — which took 15 of the 42 seconds of a 90,000-line 低保 run and 2 GB of
    memory. Here each referencing model is asked once whether it references a line of this run; only then
    (or when delete signals listen) does the collector run, with its usual ProtectedError."""
    lines = PaymentLine.objects.filter(run=run).order_by()
    line_ids: list[int] = []
    if part is not None:
        # The part's entitlements, any status (region index; `entitlement_ids` when the caller read them
        # already), then their lines in this run, by id (_part_line_ids). None on a part's first run: the
        # probe and the DELETE below then cost nothing, and a rerun asks the same queries.
        in_street = entitlement_ids if entitlement_ids is not None else _part_entitlement_ids(run, part)
        line_ids = _part_line_ids(run, in_street)
        lines = PaymentLine.objects.filter(pk__any_of=line_ids).order_by()
    needs_collector = signals.pre_delete.has_listeners(PaymentLine) or signals.post_delete.has_listeners(
        PaymentLine
    )
    for relation in get_candidate_relations_to_delete(PaymentLine._meta):
        if needs_collector:
            break
        if relation.on_delete is DO_NOTHING:
            continue
        needs_collector = relation.related_model._base_manager.filter(
            **{f"{relation.field.name}__in": lines}
        ).exists()
    if needs_collector:
        lines.delete()
        return
    table = connection.ops.quote_name(PaymentLine._meta.db_table)
    with connection.cursor() as cursor:
        if part is None:
            cursor.execute(f"DELETE FROM {table} WHERE run_id = %s", [run.pk])  # noqa: S608
        elif connection.vendor == "postgresql":
            cursor.execute(f"DELETE FROM {table} WHERE id = ANY(%s::bigint[])", [line_ids])  # noqa: S608
        else:
            # One statement without loading the lines: the ids come from a subquery Django compiles.
            ids_sql, ids_params = lines.values("pk").query.sql_with_params()
            cursor.execute(f"DELETE FROM {table} WHERE id IN ({ids_sql})", ids_params)  # noqa: S608


def _part_entitlement_ids(run: PaymentRun, part: Part) -> list[int]:
    return list(
        Entitlement.objects.filter(in_part(part), benefit_type_id=run.benefit_type_id)
        .order_by()
        .values_list("pk", flat=True)
    )


def _locked_months_to_check(benefit_type: BenefitType, month: datetime.date) -> dict[datetime.date, Any]:
    """{locked month of the look-back year: when its calculation began (None: not recorded)}."""
    return dict(
        PaymentRun.objects.filter(
            benefit_type=benefit_type,
            kind=PaymentRun.Kind.MONTHLY,
            status=PaymentRun.Status.LOCKED,
            month__gte=add_months(month, -ADJUSTMENT_LOOKBACK_MONTHS),
            month__lt=month,
        )
        .order_by("month")
        .values_list("month", "calc_started_at")
    )


def _standards_changed(calculator: Calculator, since: datetime.datetime) -> list[tuple]:
    """[(changed_at, changed_from, area_type)] of the type's standards changed after `since` — one small
    query, once per recalculation (cached on the calculator)."""
    cache = calculator.__dict__.setdefault("_standards_changed_cache", {})
    if since not in cache:
        benefit_type = calculator.benefit_type
        cache[since] = [
            (updated_at, changed_from or effective_from, area_type)
            for updated_at, changed_from, effective_from, area_type in Standard.objects.filter(
                benefit_type=benefit_type, updated_at__gt=since
            )
            .order_by()
            .values_list("updated_at", "changed_from", "effective_from", "area_type")
        ]
    return cache[since]


def _recheck_plan(
    calculator: Calculator,
    locked: Mapping[datetime.date, datetime.datetime | None],
    rows: list[dict],
    part: Part | None,
) -> dict[datetime.date, set[int] | None]:
    """{locked month: the ids of the entitlements to re-check for it, or None for all of them} — the rule
    is _adjustment_lines' docstring. A constant number of queries per part: the entitlements changed after
    the earliest locked calculation (one query, by type and part), the type's standards changed
    (one, once per recalculation), and the calculator's own (Calculator.changed_since)."""
    if not locked:
        return {}
    margin = datetime.timedelta(seconds=settings.BENEFITS_RECHECK_MARGIN_SECONDS)
    since = {month: started - margin for month, started in locked.items() if started is not None}
    if settings.BENEFITS_FULL_RECHECK or not since:
        return dict.fromkeys(locked)
    earliest = min(since.values())
    own = calculator.changed_since(rows, earliest)
    if own is None:
        return dict.fromkeys(locked)
    # The type as the calculator computes with it (its rounding): re-read by the run's caller.
    type_changed = getattr(calculator.benefit_type, "updated_at", None)
    standards = _standards_changed(calculator, earliest)
    changed = dict(
        Entitlement.objects.filter(
            in_part(part), benefit_type=calculator.benefit_type, updated_at__gt=earliest
        )
        .order_by()
        .values_list("pk", "updated_at")
    )
    plan: dict[datetime.date, set[int] | None] = {}
    for month in sorted(locked):
        t0 = since.get(month)
        if t0 is None or (type_changed is not None and type_changed > t0):
            plan[month] = None
            continue
        areas = {area for at, first_day, area in standards if at > t0 and first_day <= month}
        if "" in areas:  # a standard for both 城乡: every entitlement of the type
            plan[month] = None
            continue
        ids = {pk for pk, at in changed.items() if at > t0}
        if isinstance(own, Mapping):
            ids.update(pk for pk, at in own.items() if at > t0)
        else:
            ids.update(own)
        if areas:
            ids.update(row["id"] for row in rows if row["area_type"] in areas)
        plan[month] = ids
    return plan


def _part_lines(
    run: PaymentRun, calculator: Calculator, part: Part | None, entitlement_ids: Sequence[int] | None = None
) -> Iterator[dict[str, Any]]:
    """The lines of one part of a run (None = every entitlement), freshly computed: regular lines with
    change flags, then 补发/扣回 for the locked months of the past year — of the entitlements whose inputs
    changed since each was calculated (_recheck_plan). Entitlements, standards and facts are read once for
    all the part's rows, when the first line is asked for. `entitlement_ids`: the part's entitlements of
    the run's type, any status, when the caller read them (`_lines_of_part`)."""
    benefit_type, month = calculator.benefit_type, run.month
    # Given: entitlements, standards and facts, each read once for all rows — ahead of the writer's backlog
    # of the part before (_reads_before_writes).
    with _reads_before_writes():
        locked = _locked_months_to_check(benefit_type, month)
        locked_months = sorted(locked)
        if locked_months:
            rows = entitlements_in_force_between(benefit_type, locked_months[0], month, part)
        else:
            rows = entitlements_in_force(benefit_type, month, part)
        plan = _recheck_plan(calculator, locked, rows, part)
        rows_by_month = {
            m: [r for r in rows if row_in_force(r, m) and (plan[m] is None or r["id"] in plan[m])]
            for m in locked_months
        }
        rows_by_month[month] = [r for r in rows if row_in_force(r, month)]
        standards_by_month = standards_in_force_by_month(benefit_type, list(rows_by_month))
        facts_by_month = calculator.load_facts_by_month(rows_by_month)
        of_part = _lines_of_part(part, entitlement_ids)
        previous = _previous_month_paid(benefit_type, month, of_part)
    # When/then: this month's lines, then the 补发/扣回 whose recomputed explanation refers to them. Each
    # regular line is handed on as it is computed: the writer (_copy_lines) stores a batch while the next
    # is computed — within a part too, which is all a by-street task has (one part, one transaction).
    current: dict[int, dict] = {}
    for line in _regular_lines(
        run,
        calculator,
        rows_by_month[month],
        facts_by_month.get(month, {}),
        standards_by_month[month],
        previous,
    ):
        if line["amount"]:
            current[line["entitlement_id"]] = line["explanation"]
        yield line
    yield from _adjustment_lines(
        run, calculator, plan, rows_by_month, facts_by_month, standards_by_month, of_part, current, rows
    )


def _recalculate_part(run: PaymentRun, calculator: Calculator, part: Part) -> _Totals:
    """Replace the draft run's lines of one part (a street or several: the by-street tasks) with freshly
    computed ones; returns their totals and summary, summed while they were written (the chord's callback
    adds up the parts' instead of reading the run's lines back). A calculation error rolls the transaction
    back."""
    area_of = dict(
        Entitlement.objects.filter(in_part(part), benefit_type_id=run.benefit_type_id)
        .order_by()
        .values_list("pk", "area_type")
    )
    entitlement_ids = list(area_of)
    _delete_draft_lines(run, part, entitlement_ids=entitlement_ids)
    totals = _Totals(summary=SummarySums(area_of))
    with cyclic_gc_paused():
        totals.written = _write_lines(totals.counted(_part_lines(run, calculator, part, entitlement_ids)))
    return totals


@dataclass
class _Totals:
    """The totals _stamp_totals stores, summed as the lines are written (when the run's every line is
    written in this transaction) instead of read back from 150,000 stored lines."""

    lines: int = 0  # with an amount (line_count)
    adjustments: int = 0
    total: Decimal = ZERO
    adjustment_total: Decimal = ZERO
    summary: SummarySums | None = (
        None  # the run's summary per community and 城乡 (core/benefits/summaries.py)
    )
    written: int = 0  # every line written, zero amounts included (a part's, for the chord's check)

    def as_json(self) -> dict[str, Any]:
        """A part's totals as its Celery task returns them (JSON: amounts as strings)."""
        return {
            "written": self.written,
            "lines": self.lines,
            "adjustments": self.adjustments,
            "total": str(self.total),
            "adjustment_total": str(self.adjustment_total),
            "summary": self.summary.as_json() if self.summary is not None else None,
        }

    @classmethod
    def of_parts(cls, parts: Iterable[Mapping[str, Any]]) -> _Totals:
        """The run's totals and summary from its parts' `as_json`."""
        totals = cls(summary=SummarySums({}))
        for part in parts:
            totals.written += part["written"]
            totals.lines += part["lines"]
            totals.adjustments += part["adjustments"]
            totals.total += Decimal(part["total"])
            totals.adjustment_total += Decimal(part["adjustment_total"])
            totals.summary.merge_json(part["summary"])
        return totals

    def counted(self, lines: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        add = self.summary.add if self.summary is not None else None
        for line in lines:
            if add is not None:
                add(line)
            amount = line["amount"]
            if amount != 0:
                self.lines += 1
            self.total += amount
            if line["line_type"] != LineType.REGULAR:
                self.adjustments += 1
                self.adjustment_total += amount
            yield line


def _recalculate_run(run: PaymentRun, calculator: Calculator, totals: _Totals | None = None) -> int:
    """Replace all the draft run's lines, in one transaction, by parts of RUN_CHUNK entitlement ids
    streamed into one writer: on PostgreSQL the next part's entitlements and facts are read and computed
    while the database stores the previous part's lines (_copy_lines), instead of every read first and
    every write after. Ranges with open ends: every entitlement lies in exactly one part. `totals`, when
    given, sums the lines as they are written."""
    _delete_draft_lines(run)
    parts = entitlement_id_parts(calculator.benefit_type, settings.BENEFITS_RUN_CHUNK)
    lines = chain.from_iterable(_part_lines(run, calculator, part) for part in parts)
    with cyclic_gc_paused():
        return _write_lines(totals.counted(lines) if totals is not None else lines)


def _draft_run(benefit_type: BenefitType, month: datetime.date) -> PaymentRun:
    if not benefit_type.is_monthly:
        raise BenefitsError(f"「{benefit_type.name}」不是按月发放的待遇，不能生成月度发放批次。")
    run, _ = PaymentRun.objects.get_or_create(
        benefit_type=benefit_type,
        month=month,
        kind=PaymentRun.Kind.MONTHLY,
        defaults={"title": f"{benefit_type.name}{_cn_month(month)}发放"},
    )
    return run


def _refuse_locked(run: PaymentRun) -> None:
    if run.status == PaymentRun.Status.LOCKED:
        raise PaymentRunLocked(f"{run}发放批次已锁定，不能重新计算；更正请在下月批次中以补发/扣回处理。")


def _stamp_totals(run: PaymentRun, actor, totals: _Totals | None = None) -> PaymentRun:
    """The run's totals — summed while its lines were written, else from its lines (one aggregate query:
    the street-by-street path, whose parts were written by other transactions) — and the calculation
    stamp."""
    if totals is not None:
        sums = {
            "lines": totals.lines,
            "adjustments": totals.adjustments,
            "total": totals.total,
            "adjustment_total": totals.adjustment_total,
        }
    else:
        sums = PaymentLine.objects.filter(run=run).aggregate(
            lines=Count("pk", filter=~Q(amount=0)),
            adjustments=Count("pk", filter=~Q(line_type=LineType.REGULAR)),
            total=Sum("amount"),
            adjustment_total=Sum("amount", filter=~Q(line_type=LineType.REGULAR)),
        )
    run.line_count = sums["lines"]
    run.adjustment_total = sums["adjustment_total"] or ZERO
    run.total_amount = sums["total"] or ZERO
    run.calculated_at = timezone.now()
    run.calculated_by = actor if getattr(actor, "pk", None) else None
    # The lines per community and 城乡 for the spending figures, marked as this calculation's
    # (core/benefits/summaries.py): summed while the lines were written, else one statement.
    if totals is not None and totals.summary is not None:
        totals.summary.write(run)
    else:
        summarize_run(run)
    run.summary_of = run.calculated_at
    run.save(
        update_fields=[
            "line_count",
            "adjustment_total",
            "total_amount",
            "calculated_at",
            "calculated_by",
            "calc_started_at",
            "summary_of",
        ]
    )
    logger.info(
        "payment run %s recalculated: %s lines (%s adjustments), total %s",
        run.pk,
        run.line_count,
        sums["adjustments"],
        run.total_amount,
    )
    return run


# --- who may recalculate and lock: the permission, and the district role in the type's section -----------

RECALCULATE_ROLES: tuple[str, ...] = (Role.SECTION_CASEWORKER.value, Role.SECTION_CHIEF.value)
LOCK_ROLES: tuple[str, ...] = (Role.SECTION_CHIEF.value,)


def run_section_refusal(benefit_type: BenefitType, user, *, lock: bool = False) -> str:
    """Why `user` may not recalculate (or, with lock=True, lock) the runs of `benefit_type` in its section
    (业务科室), or "" if they may. A type that names no section needs the permission alone."""
    if benefit_type.section_id is None:
        return ""
    section = benefit_type.section
    roles = LOCK_ROLES if lock else RECALCULATE_ROLES
    if has_section_role(user, section.code, *roles):
        return ""
    return f"您不是{section.name}的{'或'.join(roles)}，不能{'锁定' if lock else '计算'}该批次"


def check_may_recalculate(benefit_type: BenefitType, actor) -> None:
    """Refuse a user who may not recalculate the type's runs. No actor is the system (the monthly job)."""
    if actor is None:
        return
    if not actor.has_perm("benefits.recalculate_paymentrun"):
        raise PermissionDenied("您没有计算发放批次的权限")
    refusal = run_section_refusal(benefit_type, actor)
    if refusal:
        raise SectionRoleRequired(refusal)


@transaction.atomic
def payment_run_recalculate(*, benefit_type: BenefitType, month: datetime.date, actor=None) -> PaymentRun:
    """(Re)calculate the monthly draft run of a benefit type in one transaction: regular lines for the
    entitlements in force, change flags against the previous month, and 补发/扣回 lines for the locked
    months of the past year. Idempotent: running it twice writes identical lines. Refuses a locked run,
    and an actor without the district role in the type's section (no actor: the monthly job).
    For a city, the monthly job does the same street by street on several workers
    (core.benefits.tasks.recalculate_run_by_street)."""
    check_may_recalculate(benefit_type, actor)
    month = month_start(month)
    calculator = get_calculator(benefit_type)
    run = PaymentRun.objects.select_for_update().get(pk=_draft_run(benefit_type, month).pk)
    _refuse_locked(run)
    run.calc_started_at = timezone.now()  # saved with the totals (_stamp_totals), before anything is read
    area_of = dict(
        Entitlement.objects.filter(benefit_type=benefit_type).order_by().values_list("pk", "area_type")
    )
    totals = _Totals(summary=SummarySums(area_of))
    _recalculate_run(run, calculator, totals)
    return _stamp_totals(run, actor, totals)


# --- per street, on several workers (core.benefits.tasks.recalculate_run_by_street) ----------------------


@transaction.atomic
def payment_run_start_parts(
    *, benefit_type: BenefitType, month: datetime.date, part_size: int | None = None, actor=None
) -> tuple[PaymentRun, list[list[str]]]:
    """First step of a recalculation street by street: the draft run, marked as being calculated
    (calculated_at cleared, so it cannot be locked until `payment_run_finish_parts` stamps it), and the
    parts to recalculate (`recalculation_parts`: every street holding an entitlement of the type, grouped
    into parts of at least `part_size` entitlements, settings.BENEFITS_PART_SIZE by default). An actor
    is checked like in `payment_run_recalculate`; the monthly job has none."""
    check_may_recalculate(benefit_type, actor)
    month = month_start(month)
    get_calculator(benefit_type)  # refuse a type without a calculator before anything is queued
    run = PaymentRun.objects.select_for_update().get(pk=_draft_run(benefit_type, month).pk)
    _refuse_locked(run)
    run.calculated_at = None
    run.calc_started_at = timezone.now()  # before any part reads: what changes later is re-checked later
    run.save(update_fields=["calculated_at", "calc_started_at"])
    size = part_size if part_size is not None else settings.BENEFITS_PART_SIZE
    return run, recalculation_parts(benefit_type, size)


@transaction.atomic
def payment_run_recalculate_part(*, run_id: int, part: Part) -> dict[str, Any]:
    """Recalculate one part (a street, or several) of a run started by `payment_run_start_parts`, in its
    own transaction.

    The run row is held FOR SHARE: parts run side by side, while a lock (FOR UPDATE) waits for them. A part
    is idempotent like the whole run (its lines are deleted and rewritten), so a failed part is simply
    run again. Returns the part's totals and summary (`_Totals.as_json`: "written" is the number of lines
    written) for `payment_run_finish_parts`."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(PaymentRun._meta.db_table)
            cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR SHARE", [run_id])  # noqa: S608
    run = PaymentRun.objects.select_related("benefit_type").get(pk=run_id)
    _refuse_locked(run)
    if run.calculated_at is not None:
        raise BenefitsError(f"{run}发放批次未处于分街道计算中，请从头重新计算。")
    return _recalculate_part(run, get_calculator(run.benefit_type), part).as_json()


def payment_run_recalculate_parts(*, run_id: int, parts: Sequence[Part]) -> dict[str, Any]:
    """Recalculate several parts of a run started by `payment_run_start_parts`, each in its own transaction
    (`payment_run_recalculate_part`), one after another — on PostgreSQL pipelined: the next part starts,
    on its own connection, as soon as every line of the one before is computed, and reads and computes
    while the server stores that part's last lines and commits it. Returns the parts' totals and summary
    added up (`_Totals.as_json`), as one part's, with "parts": how many.

    Why: a part ends with the server storing the writer's backlog — the lines Python computed faster than
    the server stored them — while Python waits, then the next part reads while the server waits: the
    production path on one worker paid that at each of a month's ~66 parts and took 1.2–1.3× the one
    transaction, which overlaps them (benchmarks/README.md, "The one transaction in a fresh process, parts
    pipelined"). At most two parts are in flight: a part starts once the part before has computed its
    lines and the one before that has committed. A failed part stops the parts after it (those in flight finish); its error is raised, and
    the parts committed stay — each is idempotent, so the task is simply run again."""
    parts = list(parts)
    # SQLite has one writer: nothing to overlap. Inside the caller's transaction (a test's, an eager
    # chord's) the parts must run in it: another connection would not see its rows, and would wait for
    # the run row it holds.
    if connection.vendor != "postgresql" or len(parts) < 2 or connection.in_atomic_block:
        results = [payment_run_recalculate_part(run_id=run_id, part=p) for p in parts]
        return {**_Totals.of_parts(results).as_json(), "parts": len(parts)}
    results: list[dict[str, Any] | None] = [None] * len(parts)
    errors: list[BaseException] = []

    def recalculate(index: int, computed: threading.Event) -> None:
        _writer.on_computed = computed.set
        try:
            results[index] = payment_run_recalculate_part(run_id=run_id, part=parts[index])
        except BaseException as exc:  # raised by the calling thread once the parts in flight are done
            errors.append(exc)
        finally:
            _writer.on_computed = None
            computed.set()  # a part that wrote nothing, or failed, lets the loop go on (or stop)
            connection.close()  # this thread's own connection

    threads: list[threading.Thread] = []
    with cyclic_gc_paused():  # for the parts' threads too: each pauses it only if it is running
        for index in range(len(parts)):
            if errors:
                break
            if index >= 2:
                threads[index - 2].join()  # at most two parts in flight
                if errors:
                    break
            computed = threading.Event()
            thread = threading.Thread(target=recalculate, args=(index, computed), name=f"run-part-{index}")
            thread.start()
            threads.append(thread)
            computed.wait()
        for thread in threads:
            thread.join()
    if errors:
        raise errors[0]
    return {**_Totals.of_parts(results).as_json(), "parts": len(parts)}


@transaction.atomic
def payment_run_finish_parts(
    *, run_id: int, actor=None, parts: list[Mapping[str, Any]] | None = None
) -> PaymentRun:
    """Last step (the chord's callback): the run's totals and summary — added up from its `parts`' results
    (`payment_run_recalculate_part`), else read from all its lines — and the calculation stamp that makes
    it lockable again."""
    run = PaymentRun.objects.select_for_update().get(pk=run_id)
    _refuse_locked(run)
    return _stamp_totals(run, actor, _Totals.of_parts(parts) if parts is not None else None)


# --- who may lock: also a data scope that holds every line of the run -----------------------------------
#
# A run has no region: the monthly job makes one per benefit type and month for all the lines of the city
# (a district's alone when the system serves one district). Rather than cut runs per district (a schema
# change, and one run per district to recalculate, lock and send to the bank), locking needs a data scope
# that holds every line of the run: a district's 科长 locks a run whose lines all lie in the district, a run
# across districts is locked by a city-level 科长 (or a superuser). Nobody so locks the payments of a region
# they cannot see.


def _region_holding(bounds: tuple[str | None, str | None]) -> str:
    """The name of the smallest region whose scope holds both region codes (长春市), or ""."""
    from core.registry.models import Region

    low, high = bounds
    if low is None or high is None:
        return ""
    for digits in sorted(set(SCOPE_DIGITS.values()), reverse=True):
        if low[:digits] == high[:digits]:
            code = low[:digits].ljust(12, "0")
            return Region.objects.filter(code=code).values_list("name", flat=True).first() or ""
    return ""


def run_scope_refusal(run: PaymentRun, user) -> str:
    """Why `user` may not lock `run` for its data scope (the run holds lines outside it), or "" if they
    may. One query (MIN/MAX of the lines' region codes) unless the run was read `with_line_bounds`."""
    if user_scope_prefix(user) == "":
        return ""
    bounds = run_line_bounds(run)
    if scope_holds_run(user, bounds):
        return ""
    holder = _region_holding(bounds)
    by = f"{holder}的科长" if holder else "数据范围包含全部发放记录的科长"
    return f"本批次含有您数据范围以外的发放记录，须由{by}锁定"


def lock_offer(run: PaymentRun, user) -> str | None:
    """The lock button of a run's page: None hides it (the run is not a calculated draft, or the user is
    not a 科长 of the type's section), "" offers it, a reason shows it disabled (run_scope_refusal)."""
    if (
        run.status != PaymentRun.Status.DRAFT
        or run.calculated_at is None
        or not user.has_perm("benefits.lock_paymentrun")
        or run_section_refusal(run.benefit_type, user, lock=True)
    ):
        return None
    return run_scope_refusal(run, user)


def can_lock(run: PaymentRun, user) -> bool:
    return lock_offer(run, user) == ""


def can_recalculate(run: PaymentRun, user) -> bool:
    return (
        run.status == PaymentRun.Status.DRAFT
        and user.has_perm("benefits.recalculate_paymentrun")
        and not run_section_refusal(run.benefit_type, user)
    )


@transaction.atomic
def payment_run_lock(*, run: PaymentRun, actor) -> PaymentRun:
    """Lock a calculated draft run for payment (draft → locked). After this nothing changes it. The actor
    is a 科长 of the type's section whose data scope holds every line of the run (run_scope_refusal); the
    run row is held FOR UPDATE, so no recalculation moves its lines meanwhile."""
    run = PaymentRun.objects.select_for_update().get(pk=run.pk)
    if not actor.has_perm("benefits.lock_paymentrun"):
        raise PermissionDenied("您没有锁定发放批次的权限")
    refusal = run_section_refusal(run.benefit_type, actor, lock=True)
    if refusal:
        raise SectionRoleRequired(refusal)
    refusal = run_scope_refusal(run, actor)
    if refusal:
        raise RunOutsideScope(refusal)
    if run.status == PaymentRun.Status.LOCKED:
        raise PaymentRunLocked(f"{run}发放批次已于{timezone.localtime(run.locked_at):%Y-%m-%d %H:%M}锁定。")
    if run.calculated_at is None:
        raise BenefitsError(f"{run}发放批次尚未计算，不能锁定。")
    run.status = PaymentRun.Status.LOCKED
    run.locked_at = timezone.now()
    run.locked_by = actor
    run.save(update_fields=["status", "locked_at", "locked_by"])
    logger.info("payment run %s locked by %s", run.pk, actor)
    return run


def monthly_benefit_types() -> Iterable[BenefitType]:
    return BenefitType.objects.filter(is_monthly=True).order_by("sort_order", "code")


# --- the state of a requested recalculation, shown on the run page (a worker's failure included) --------

#: Shown when a recalculation fails for a reason it did not explain; the traceback goes to the log.
RECALC_UNEXPECTED_ERROR = "计算时发生系统错误，请稍后重新计算；如仍失败，请联系系统管理员。"
#: Shown when a requested recalculation did not finish within settings.BENEFITS_RECALC_STALE_SECONDS.
RECALC_STALE_ERROR = "计算任务长时间未完成（后台进程可能已中断），已终止。请点击“重新计算”再试。"


@transaction.atomic
def payment_run_queue_recalculation(*, benefit_type: BenefitType, month: datetime.date, actor) -> PaymentRun:
    """Before a recalculation is queued: the draft run exists (so its page can show how the calculation
    goes) and says it waits. Refuses what the task would refuse at once: the user, a locked run."""
    check_may_recalculate(benefit_type, actor)
    run = PaymentRun.objects.select_for_update().get(pk=_draft_run(benefit_type, month_start(month)).pk)
    _refuse_locked(run)
    run.calc_state = PaymentRun.CalcState.QUEUED
    run.calc_error = ""
    run.calc_requested_at = timezone.now()
    run.save(update_fields=["calc_state", "calc_error", "calc_requested_at"])
    return run


def payment_run_mark_calculation(
    *, state: str, error: str = "", run_id: int | None = None, benefit_type=None, month=None
) -> None:
    """Record how the run's recalculation goes (a task calls this, outside the calculation's transaction,
    so a failure is kept when the calculation rolls back). The run by id or by (type, month)."""
    runs = PaymentRun.objects.all()
    if run_id is not None:
        runs = runs.filter(pk=run_id)
    else:
        runs = runs.filter(benefit_type=benefit_type, month=month_start(month), kind=PaymentRun.Kind.MONTHLY)
    fields: dict[str, Any] = {"calc_state": state, "calc_error": error}
    if state == PaymentRun.CalcState.RUNNING:
        fields["calc_requested_at"] = timezone.now()
    if state == PaymentRun.CalcState.FAILED:
        logger.warning("recalculation of run %s failed: %s", run_id or (benefit_type, month), error)
    runs.update(**fields)


def payment_run_fail_stale_calculation(run: PaymentRun) -> PaymentRun:
    """A recalculation still waiting or running settings.BENEFITS_RECALC_STALE_SECONDS after it was
    requested (its worker was lost) is failed, so the run page says so instead of waiting forever."""
    limit = timezone.now() - datetime.timedelta(seconds=settings.BENEFITS_RECALC_STALE_SECONDS)
    stale = PaymentRun.objects.filter(
        pk=run.pk,
        calc_state__in=(PaymentRun.CalcState.QUEUED, PaymentRun.CalcState.RUNNING),
        calc_requested_at__lt=limit,
    ).update(calc_state=PaymentRun.CalcState.FAILED, calc_error=RECALC_STALE_ERROR)
    if stale:
        run.calc_state, run.calc_error = PaymentRun.CalcState.FAILED, RECALC_STALE_ERROR
    return run
