"""Reads of the benefits engine: standards and parameters in force, entitlements in force, runs and lines.

Every read that a user drives takes the user and scopes with `visible_to(user)`."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import Count, F, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Left

from core.registry.crypto import id_number_q
from core.registry.querysets import scope_range_q, user_scope_prefix

from .exceptions import ParameterNotFound, StandardNotFound
from .models import BenefitType, Entitlement, Parameter, PaymentLine, PaymentRun, Standard

ENTITLEMENT_ROW_FIELDS = (
    "id",
    "benefit_type_id",
    "person_id",
    "household_id",
    "case_id",
    "region_code",
    "area_type",
    "start_month",
    "end_month",
    "status",
    "params",
)


# --- standards and parameters -------------------------------------------------------------------


def _in_force_on(on_date: datetime.date) -> Q:
    return Q(effective_from__lte=on_date) & (Q(effective_to__isnull=True) | Q(effective_to__gte=on_date))


def _overlapping(first: datetime.date, last: datetime.date) -> Q:
    return Q(effective_from__lte=last) & (Q(effective_to__isnull=True) | Q(effective_to__gte=first))


@dataclass(frozen=True)
class StandardValue:
    """A Standard row as the calculators see it (no model instance, so it can be cached and compared)."""

    id: int
    area_type: str
    tier: str
    amount: Decimal
    unit: str
    effective_from: datetime.date
    effective_to: datetime.date | None
    source: str

    def as_explanation(self) -> dict[str, Any]:
        return {
            "standard_id": self.id,
            "standard": str(self.amount),
            "standard_unit": self.unit,
            "standard_effective_from": self.effective_from.isoformat(),
            "standard_source": self.source,
        }


class StandardsInForce(dict):
    """{(area_type, tier): StandardValue} for one benefit type on one date.

    `get_for` falls back from the urban/rural row to the row that applies to both (area_type "")."""

    on_date: datetime.date | None = None

    def get_for(self, area_type: str, tier: str = "") -> StandardValue | None:
        return self.get((area_type, tier)) or self.get(("", tier))

    def require(self, benefit_type_name: str, area_type: str, tier: str = "") -> StandardValue:
        value = self.get_for(area_type, tier)
        if value is None:
            raise StandardNotFound(
                _standard_missing_message(benefit_type_name, area_type, tier, self.on_date)
            )
        return value


_STANDARD_FIELDS = ("id", "area_type", "tier", "amount", "unit", "effective_from", "effective_to", "source")


def _standard_missing_message(benefit_type_name: str, area_type: str, tier: str, on_date) -> str:
    from core.registry.choices import AreaType

    area = dict(AreaType.choices).get(area_type, "不分城乡")
    tier_text = f"「{tier}」档" if tier else ""
    when = f"{on_date.year}年{on_date.month}月{on_date.day}日" if on_date else ""
    return f"{benefit_type_name}（{area}）{tier_text}在{when}没有有效的待遇标准，请先在“待遇标准”中录入。"


def _standards_map(rows: list[dict], on_date: datetime.date) -> StandardsInForce:
    result = StandardsInForce()
    result.on_date = on_date
    # Ascending effective_from: where rows overlap by mistake, the later one wins.
    for row in sorted(rows, key=lambda r: (r["effective_from"], r["id"])):
        if row["effective_from"] <= on_date and (
            row["effective_to"] is None or row["effective_to"] >= on_date
        ):
            result[(row["area_type"], row["tier"])] = StandardValue(**row)
    return result


def standards_in_force_map(benefit_type: BenefitType, on_date: datetime.date) -> StandardsInForce:
    """Every standard of a benefit type in force on a date — a handful of rows, one query."""
    rows = list(
        Standard.objects.filter(_in_force_on(on_date), benefit_type=benefit_type).values(*_STANDARD_FIELDS)
    )
    return _standards_map(rows, on_date)


def standards_in_force_by_month(
    benefit_type: BenefitType, months: list[datetime.date]
) -> dict[datetime.date, StandardsInForce]:
    """The standards map of each month (on its first day), all months in one query."""
    if not months:
        return {}
    rows = list(
        Standard.objects.filter(_overlapping(min(months), max(months)), benefit_type=benefit_type).values(
            *_STANDARD_FIELDS
        )
    )
    return {month: _standards_map(rows, month) for month in months}


def standard_in_force(
    benefit_type: BenefitType, area_type: str, tier: str, on_date: datetime.date
) -> StandardValue:
    """The standard for (benefit type, urban/rural, tier) on a date; raises StandardNotFound if none."""
    return standards_in_force_map(benefit_type, on_date).require(benefit_type.name, area_type, tier)


def parameter_value(key: str, on_date: datetime.date) -> Decimal:
    """A (local) parameter's value on a date (DESIGN.md "Parameters with effective dates")."""
    row = (
        Parameter.objects.filter(_in_force_on(on_date), key=key)
        .order_by("-effective_from", "-id")
        .values("value")
        .first()
    )
    if row is None:
        raise ParameterNotFound(
            f"业务参数「{key}」在{on_date.year}年{on_date.month}月{on_date.day}日没有有效值，请在系统管理中录入。"
        )
    return row["value"]


def parameters_in_force(keys: list[str], on_date: datetime.date) -> dict[str, Decimal]:
    """Several parameters in one query; a missing key raises ParameterNotFound."""
    values: dict[str, Decimal] = {}
    rows = Parameter.objects.filter(_in_force_on(on_date), key__in=keys).order_by(
        "key", "effective_from", "id"
    )
    for row in rows.values("key", "value"):
        values[row["key"]] = row["value"]
    for key in keys:
        if key not in values:
            raise ParameterNotFound(
                f"业务参数「{key}」在{on_date.year}年{on_date.month}月{on_date.day}日没有有效值，请在系统管理中录入。"
            )
    return values


# --- entitlements ---------------------------------------------------------------------------------

_NOT_SUSPENDED = ~Q(status=Entitlement.Status.SUSPENDED)


def _entitlement_rows(queryset: QuerySet) -> list[dict]:
    """The rows, plus `person_household_id` read in a second query by primary key: joining the person
    table in the same query made PostgreSQL hash all 1,000,000 people of a city (0.37 s for 19,000
    disability entitlements; 0.03 s this way)."""
    from core.registry.models import Person

    rows = list(queryset.order_by("region_code", "id").values(*ENTITLEMENT_ROW_FIELDS))
    person_ids = [row["person_id"] for row in rows if row["person_id"] is not None]
    households = (
        dict(Person.objects.filter(pk__any_of=person_ids).values_list("pk", "household_id"))
        if person_ids
        else {}
    )
    for row in rows:
        row["person_household_id"] = households.get(row["person_id"])
    return rows


#: Recalculation parts are streets: the first 9 digits of a 12-digit region code (县/区 6 + 街道/乡镇 3).
PART_LENGTH = 9


class IdRange(NamedTuple):
    """A recalculation part of consecutive entitlement ids, first <= id < stop (None: no bound). The
    parts one process streams a whole run in (entitlement_id_parts): ranges with open ends, so that
    together they hold every entitlement, whatever is added meanwhile."""

    first: int | None
    stop: int | None


#: A recalculation part: one street's code, several streets' codes recalculated together, or a range of
#: entitlement ids.
Part = str | list[str] | tuple[str, ...] | IdRange


def _street_q(street: str, field: str) -> Q:
    if len(street) == PART_LENGTH:
        return Q(**{f"{field}__startswith": street})
    return Q(**{field: street})


def in_part(part: Part | None, field: str = "region_code") -> Q:
    """The rows of a recalculation part (all rows when part is None), `field` naming the entitlement's
    region code ("region_code" on Entitlement, "entitlement__region_code" from a line).

    A street or a list of streets: every code belongs to exactly one street — codes shorter than a
    street's (a district's own) form a street of their own and match exactly — so parts never overlap;
    served by the varchar_pattern_ops region indexes. An IdRange: the entitlement's primary key (or the
    line's entitlement_id) in the range."""
    if part is None:
        return Q()
    if isinstance(part, IdRange):
        pk = field.removesuffix("region_code") + "pk"  # "pk" or "entitlement__pk"
        condition = Q()
        if part.first is not None:
            condition &= Q(**{f"{pk}__gte": part.first})
        if part.stop is not None:
            condition &= Q(**{f"{pk}__lt": part.stop})
        return condition
    streets = [part] if isinstance(part, str) else list(part)
    condition = Q(pk__in=[])  # an empty part matches nothing
    for street in streets:
        condition |= _street_q(street, field)
    return condition


def entitlement_id_parts(benefit_type: BenefitType, size: int) -> list[IdRange]:
    """The type's entitlements (any status) cut into ranges of `size` ids, the first and last open-ended —
    one query of ids."""
    ids = list(
        Entitlement.objects.filter(benefit_type=benefit_type).order_by("pk").values_list("pk", flat=True)
    )
    bounds: list[int | None] = [None, *ids[size::size], None]
    return [IdRange(first, stop) for first, stop in zip(bounds, bounds[1:], strict=False)]


def recalculation_parts(benefit_type: BenefitType, size: int = 1) -> list[list[str]]:
    """The streets holding at least one entitlement of the type (any status), grouped in order into parts
    of at least `size` entitlements (the last part may be smaller; size 1 = one street per part). Every
    entitlement — in force, ended, or paid in a past run — lies in exactly one part. A part per street
    would cost a task's fixed price (a transaction, a dozen queries, the chord's bookkeeping) for as few
    as 100 entitlements: the per-street tasks of a city took 2.3 × the one-transaction run on one worker."""
    counts = (
        Entitlement.objects.filter(benefit_type=benefit_type)
        .annotate(street=Left("region_code", PART_LENGTH))
        .values("street")
        .annotate(n=Count("pk"))
        .order_by("street")
        .values_list("street", "n")
    )
    parts: list[list[str]] = []
    current: list[str] = []
    filled = 0
    for street, n in counts:
        current.append(street)
        filled += n
        if filled >= size:
            parts.append(current)
            current, filled = [], 0
    if current:
        parts.append(current)
    return parts


def entitlements_in_force(
    benefit_type: BenefitType, month: datetime.date, part: Part | None = None
) -> list[dict]:
    """Entitlements paid for `month`: start_month <= month <= end_month (open end allowed), not suspended.

    An ENDED entitlement is still paid up to and including its end_month — end_month decides, the status
    only says that end_month is final. One query; rows are dicts (see ENTITLEMENT_ROW_FIELDS) plus
    `person_household_id`, the household of a person entitlement. The one-month case of
    `entitlements_in_force_between` (the same query with first = last = month)."""
    return entitlements_in_force_between(benefit_type, month, month, part)


def entitlements_in_force_between(
    benefit_type: BenefitType, first: datetime.date, last: datetime.date, part: Part | None = None
) -> list[dict]:
    """Entitlements in force in at least one month of [first, last]; filter a month with `row_in_force`."""
    queryset = Entitlement.objects.filter(
        _NOT_SUSPENDED,
        Q(end_month__isnull=True) | Q(end_month__gte=first),
        in_part(part),
        benefit_type=benefit_type,
        start_month__lte=last,
    )
    return _entitlement_rows(queryset)


def row_in_force(row: dict, month: datetime.date) -> bool:
    return row["start_month"] <= month and (row["end_month"] is None or row["end_month"] >= month)


def entitlement_covering(
    benefit_type: BenefitType | str,
    *,
    person=None,
    household=None,
    first_month: datetime.date,
    last_month: datetime.date | None = None,
) -> Entitlement | None:
    """The beneficiary's entitlement of `benefit_type` (the type or its code) covering at least one month
    of [first_month, last_month] (None: open-ended), or None — whatever its status: a suspended one may
    resume, an ended one is still paid up to its end month. The beneficiary is the person when one is
    given, else the household (as in Entitlement's one-open-entitlement constraints)."""
    entitlements = Entitlement.objects.filter(
        Q(end_month__isnull=True)
        | (Q(end_month__gte=first_month.replace(day=1)) & Q(end_month__gte=F("start_month")))
    )
    if isinstance(benefit_type, str):
        entitlements = entitlements.filter(benefit_type__code=benefit_type)
    else:
        entitlements = entitlements.filter(benefit_type_id=benefit_type.pk)
    if person is not None:
        entitlements = entitlements.filter(person_id=person.pk)
    elif household is not None:
        entitlements = entitlements.filter(person__isnull=True, household_id=household.pk)
    else:
        return None
    if last_month is not None:
        entitlements = entitlements.filter(start_month__lte=last_month)
    return entitlements.select_related("benefit_type", "person").order_by("start_month", "id").first()


def entitlement_covered_message(entitlement: Entitlement, *, action: str = "认定") -> str:
    """Why a second grant of the same benefit is refused, in Chinese: "该家庭已在享受最低生活保障，不能重复
    认定" (`action`: 认定 for a grant, 申请 for a new application)."""
    who = entitlement.person.name if entitlement.person_id else "该家庭"
    until = ""
    if entitlement.end_month is not None:
        until = f"（享受至{entitlement.end_month.year}年{entitlement.end_month.month}月）"
    return f"{who}已在享受{entitlement.benefit_type.name}{until}，不能重复{action}"


# --- runs and lines (user-facing, scoped) ---------------------------------------------------------


def payment_runs_list(
    user,
    *,
    benefit_type_code: str = "",
    month: datetime.date | None = None,
    status: str = "",
) -> QuerySet[PaymentRun]:
    """Payment runs a user may list. A run is a bureau-wide batch (not region-scoped); its lines are, and
    so are the totals a user sees of it (`runs_totals_in_scope` on the page, from `with_line_bounds`)."""
    if not user.has_perm("benefits.view_paymentrun"):
        return PaymentRun.objects.none()
    runs = PaymentRun.objects.select_related("benefit_type", "locked_by", "calculated_by")
    if benefit_type_code:
        runs = runs.filter(benefit_type__code=benefit_type_code)
    if month:
        runs = runs.filter(month=month)
    if status:
        runs = runs.filter(status=status)
    return with_line_bounds(runs).order_by("-month", "benefit_type__sort_order", "benefit_type__code", "-id")


# A run is one per benefit type and month for every region (the monthly job makes one), its stored totals
# run-wide; its lines carry their region code. What a user sees of a run — and whether they may lock it
# (services.run_scope_refusal) — follows from where its lines lie against the user's data scope.


def with_line_bounds(runs: QuerySet[PaymentRun]) -> QuerySet[PaymentRun]:
    """The runs with `lines_from` / `lines_to`: the lowest and highest region code of their lines (None
    for a run without lines) — two correlated subqueries per run, each one probe of the (run, region_code)
    index, whatever the number of lines."""
    codes = PaymentLine.objects.filter(run=OuterRef("pk")).values("region_code")
    return runs.annotate(
        lines_from=Subquery(codes.order_by("region_code")[:1]),
        lines_to=Subquery(codes.order_by("-region_code")[:1]),
    )


def run_line_bounds(run: PaymentRun) -> tuple[str | None, str | None]:
    """The lowest and highest region code of the run's lines: read from `with_line_bounds` when the run
    came through it, else one query (MIN/MAX served by the (run, region_code) index)."""
    if hasattr(run, "lines_from"):
        return run.lines_from, run.lines_to
    bounds = PaymentLine.objects.filter(run=run).aggregate(low=Min("region_code"), high=Max("region_code"))
    return bounds["low"], bounds["high"]


def scope_holds_run(user, bounds: tuple[str | None, str | None]) -> bool:
    """Whether the user's data scope holds every line of a run whose lines' region codes lie between
    `bounds`. Region codes are digit strings, so those starting with a prefix sort together: the scope
    holds every line when it holds the lowest and the highest. A run without lines is held by any scope."""
    prefix = user_scope_prefix(user)
    if prefix is None:
        return False
    low, high = bounds
    return prefix == "" or low is None or (low.startswith(prefix) and high.startswith(prefix))


@dataclass(frozen=True)
class RunTotals:
    """A run's totals as one user sees them: over the lines in the user's data scope. `whole_run`: the
    scope holds every line, so these are the run's own totals."""

    line_count: int
    total_amount: Decimal
    adjustment_total: Decimal
    whole_run: bool


def _totals_aggregates() -> dict[str, Any]:
    """The sums of PaymentRun's stored totals (services._stamp_totals): paid lines (amount not 0), the
    total, and the net of the 补发/扣回 lines."""
    adjustments = ~Q(line_type=PaymentLine.LineType.REGULAR)
    return {
        # Counted on the amount (never null), not the id: the (run, region_code) index covers line_type
        # and amount, so a scope's lines are summed from the index alone on PostgreSQL.
        "paid": Count("amount", filter=~Q(amount=0)),
        "total": Sum("amount"),
        "adjustment_total": Sum("amount", filter=adjustments),
    }


def runs_totals_in_scope(user, runs: list[PaymentRun]) -> dict[int, RunTotals]:
    """{run id: RunTotals} for the runs of a page (read through `with_line_bounds`): the stored totals of
    a run whose lines the user's scope holds all of; for the others, the lines in scope summed in ONE
    aggregate query for the page. A city-level user reads no line; a street's reviewer sums a street."""
    totals: dict[int, RunTotals] = {}
    partial = []
    for run in runs:
        if scope_holds_run(user, run_line_bounds(run)):
            totals[run.pk] = RunTotals(run.line_count, run.total_amount, run.adjustment_total, True)
        else:
            partial.append(run.pk)
    if partial:
        rows = {
            row["run_id"]: row
            for row in PaymentLine.objects.visible_to(user)
            .filter(run_id__in=partial)
            .values("run_id")
            .annotate(**_totals_aggregates())
            .order_by()
        }
        for pk in partial:
            row = rows.get(pk, {})
            totals[pk] = RunTotals(
                row.get("paid") or 0,
                row.get("total") or Decimal(0),
                row.get("adjustment_total") or Decimal(0),
                False,
            )
    return totals


#: A 补发/扣回 line's explanation whose "recomputed" holds only what differs from the explanation of the
#: entitlement's regular line in the same run (services._recomputed_by_difference), and the keys of that
#: explanation the recomputed month did not have.
RECOMPUTED_FROM_REGULAR = "recomputed_from_regular"
RECOMPUTED_WITHOUT = "recomputed_without"


def restore_recomputed(lines: Iterable[PaymentLine]) -> None:
    """Put back, in place, the full recomputed explanation of the 补发/扣回 lines among `lines` that store it
    by difference from their run's regular line — one query for all of them (a page of lines)."""
    stored = [
        line
        for line in lines
        if isinstance(line.explanation, dict) and line.explanation.get(RECOMPUTED_FROM_REGULAR)
    ]
    if not stored:
        return
    references = {
        (run_id, entitlement_id): explanation
        for run_id, entitlement_id, explanation in PaymentLine.objects.filter(
            run_id__any_of=sorted({line.run_id for line in stored}),
            entitlement_id__any_of=sorted({line.entitlement_id for line in stored}),
            line_type=PaymentLine.LineType.REGULAR,
        )
        .order_by()
        .values_list("run_id", "entitlement_id", "explanation")
    }
    for line in stored:
        explanation = dict(line.explanation)
        reference = references.get((line.run_id, line.entitlement_id)) or {}
        without = set(explanation.pop(RECOMPUTED_WITHOUT, ()))
        del explanation[RECOMPUTED_FROM_REGULAR]
        explanation["recomputed"] = {
            **{key: value for key, value in reference.items() if key not in without},
            **explanation.get("recomputed", {}),
        }
        line.explanation = explanation


def payment_lines_list(
    user,
    run: PaymentRun,
    *,
    q: str = "",
    line_type: str = "",
    change: str = "",
) -> QuerySet[PaymentLine]:
    """A run's lines inside the user's region scope, searchable by household number, name or ID number.
    The scope also as a range of codes: the (run, region_code) index then reads the district's lines
    alone (a city's 低保 run: ~90,000 lines, a district ~9,000)."""
    lines = PaymentLine.objects.visible_to(user).filter(scope_range_q(user), run=run)
    q = q.strip()
    if q:
        lines = lines.filter(
            Q(household__number=q)
            | id_number_q(q, "person__")
            | id_number_q(q, "household__head__")
            | Q(person__name__startswith=q)
            | Q(household__head__name__startswith=q)
        )
    if line_type:
        lines = lines.filter(line_type=line_type)
    if change:
        lines = lines.filter(change=change)
    return lines.select_related("household", "household__head", "person", "entitlement").order_by(
        "region_code", "household__number", "entitlement_id", "for_month", "id"
    )


def payment_lines_summary(user, run: PaymentRun) -> dict[str, Any]:
    """Totals of the lines a user may see, by line type — one aggregate query — and, as `totals`, the
    run's totals over those lines (RunTotals: paid lines, total, 补发/扣回 net; `whole_run` when the user's
    scope holds every line of the run)."""
    rows = (
        PaymentLine.objects.visible_to(user)
        .filter(scope_range_q(user), run=run)
        .values("line_type")
        # counted on the amount: from the covering (run, region_code) index alone (_totals_aggregates)
        .annotate(count=Count("*"), total=Sum("amount"), paid=Count("amount", filter=~Q(amount=0)))
        .order_by("line_type")
    )
    labels = dict(PaymentLine.LineType.choices)
    by_type = [
        {"line_type": r["line_type"], "label": labels.get(r["line_type"], r["line_type"]), **r} for r in rows
    ]
    total = sum((r["total"] or Decimal(0) for r in by_type), Decimal(0))
    regular = PaymentLine.LineType.REGULAR
    return {
        "by_type": by_type,
        "count": sum(r["count"] for r in by_type),
        "total": total,
        "totals": RunTotals(
            line_count=sum(r["paid"] for r in by_type),
            total_amount=total,
            adjustment_total=sum(
                (r["total"] or Decimal(0) for r in by_type if r["line_type"] != regular), Decimal(0)
            ),
            whole_run=scope_holds_run(user, run_line_bounds(run)),
        ),
    }


def standards_list(
    *, benefit_type_code: str = "", state: str = "", today: datetime.date
) -> QuerySet[Standard]:
    """Standards, current and historical. state: "current" (in force today), "history", "future" or ""."""
    standards = Standard.objects.select_related("benefit_type")
    if benefit_type_code:
        standards = standards.filter(benefit_type__code=benefit_type_code)
    if state == "current":
        standards = standards.filter(_in_force_on(today))
    elif state == "history":
        standards = standards.filter(effective_to__lt=today)
    elif state == "future":
        standards = standards.filter(effective_from__gt=today)
    return standards.order_by(
        "benefit_type__sort_order", "benefit_type__code", "area_type", "tier", "-effective_from"
    )
