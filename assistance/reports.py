"""社会救助 in the monthly statistical report (民政统计月报) and on the dashboard.

Registered on import (AssistanceConfig.ready): four sheets — 城乡低保, 特困人员, 临时救助, 两项补贴 — and two
dashboard panels. The figures come from the aggregate selectors below: each is ONE grouped query scoped by
`visible_to(user)`, whatever the number of households; the sheets only arrange them.

Definitions (the same on every sheet and on the dashboard):
- 在保 in month M: the entitlement is paid for M — start_month <= M <= end_month (open end allowed) and not
  suspended, as the benefits engine decides (core.benefits.selectors.entitlements_in_force).
- 本月新增: in force in M and start_month = M. 本月退出: end_month = M − 1, i.e. paid last month and no
  longer this month (a decision "自X月起停发" ends the entitlement with end_month X − 1).
- 低保 persons: the living members of the covered households on the first day of M (the day the engine
  reads facts on), or only the listed members of a 单人保 entitlement (params["covered_person_ids"]).
  Ages are full years on that day: 老年人 60+, 未成年人 under 18, 成年人 in between.
- 致贫原因: params["poverty_cause"] of the 低保 entitlement, one of POVERTY_CAUSES; households without a
  recorded cause (today: all of them — the application does not ask yet) are counted as 未登记.
- Spending: payment lines of the runs of month M (this month) or of January..M (year to date), draft runs
  included (the sheet says so when a run of M is not locked yet). Items: 基本保障金 / 分类施保金 / 其他 are
  the parts of the regular lines; 补发/扣回 the net of back-pay and recovery lines; 一次性 the one-off runs.
- 临时救助 counts an approved case in the month of its payment run, or — when it was not paid through a
  run — in the month the case was closed (办结); the amount is the approved amount."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.fields.json import KeyTextTransform

from core.benefits.models import BenefitType, Entitlement, PaymentLine, PaymentRun, PaymentRunSummary
from core.benefits.months import add_months, month_start
from core.benefits.selectors import standards_in_force_map
from core.portal.dashboard import bar_chart, register_dashboard_panel
from core.registry.choices import AreaType, LabourCapacity, Sex
from core.registry.querysets import scope_range_q
from reports.statistics import Col, StatisticsContext, StatisticsTable, register_statistics_section

from .models import PovertyCause, TempAssistanceCase, TempAssistanceKind

DIBAO = "dibao"
TEKUN_BASIC = "tekun_basic"
TEKUN_CARE = "tekun_care"
DISABILITY_LIVING = "disability_living"
DISABILITY_CARE = "disability_care"
CENTRALISED = "集中供养"  # params["tier"] of a 特困 basic-living entitlement (assistance.calculators)
DISPERSED = "分散供养"
ZERO = Decimal("0.00")

AREAS = ((AreaType.URBAN, "城市"), (AreaType.RURAL, "农村"))
TOTAL = "total"

# 致贫原因 as recorded in params["poverty_cause"]; anything else (or nothing) is 未登记.
POVERTY_CAUSES = tuple(PovertyCause.choices)
UNRECORDED = "unrecorded"


# --- aggregate selectors ----------------------------------------------------------------------------------


def _not_suspended(path: str = "") -> Q:
    return ~Q(**{f"{path}status": Entitlement.Status.SUSPENDED})


def in_force(month: datetime.date, path: str = "") -> Q:
    """Entitlements paid for `month` (core.benefits.selectors.entitlements_in_force, as a Q)."""
    return (
        Q(**{f"{path}start_month__lte": month})
        & (Q(**{f"{path}end_month__isnull": True}) | Q(**{f"{path}end_month__gte": month}))
        & _not_suspended(path)
    )


def started(month: datetime.date, path: str = "") -> Q:
    return in_force(month, path) & Q(**{f"{path}start_month": month})


def exited(month: datetime.date, path: str = "") -> Q:
    previous = add_months(month, -1)
    return Q(**{f"{path}end_month": previous, f"{path}start_month__lte": previous}) & _not_suspended(path)


def _by_area(rows: Iterable[dict], area_field: str = "area_type") -> dict[str, dict[str, Any]]:
    """{area: {figure: value}} plus TOTAL, the sum over every group (an unexpected area still counts in
    the total, so the 合计 = 城市 + 农村 check would name it)."""
    result: dict[str, dict[str, Any]] = {TOTAL: defaultdict(int)}
    for row in rows:
        area = row.pop(area_field) or ""
        figures = {k: (v if v is not None else 0) for k, v in row.items()}
        result.setdefault(area, defaultdict(int))
        for key, value in figures.items():
            result[area][key] += value
            result[TOTAL][key] += value
    return result


def dibao_household_figures(user, month: datetime.date, *, causes: bool = True) -> dict[str, dict[str, Any]]:
    """低保 households in force, new and exited, and by 致贫原因 — two grouped queries (one without
    `causes`: the dashboard shows no 致贫原因)."""
    entitlements = Entitlement.objects.visible_to(user).filter(
        benefit_type__code=DIBAO, household__isnull=False
    )
    counts = (
        entitlements.filter(in_force(month) | exited(month))
        .values("area_type")
        .order_by()
        .annotate(
            households=Count("household_id", filter=in_force(month), distinct=True),
            new_households=Count("household_id", filter=started(month), distinct=True),
            exited_households=Count("household_id", filter=exited(month), distinct=True),
        )
    )
    result = _by_area(list(counts))
    if not causes:
        return result
    known = {code for code, _ in POVERTY_CAUSES}
    causes = (
        entitlements.filter(in_force(month))
        .annotate(cause=KeyTextTransform("poverty_cause", "params"))
        .values("area_type", "cause")
        .order_by()
        .annotate(n=Count("household_id", distinct=True))
    )
    for row in causes:
        cause = row["cause"] if row["cause"] in known else UNRECORDED
        for area in (row["area_type"] or "", TOTAL):
            result.setdefault(area, defaultdict(int))[f"cause_{cause}"] += row["n"]
    return result


def _single_cover_filter(user, month: datetime.date) -> Q:
    """Members counted for a 单人保 entitlement: only those it lists. One small query (they are few)."""
    rows = (
        Entitlement.objects.visible_to(user)
        .filter(benefit_type__code=DIBAO, params__has_key="covered_person_ids")
        .filter(in_force(month) | exited(month))
        .values_list("id", "params")
    )
    single_ids, covered_ids = [], set()
    for pk, params in rows:
        ids = (params or {}).get("covered_person_ids") or []
        if ids:
            single_ids.append(pk)
            covered_ids.update(int(i) for i in ids)
    if not single_ids:
        return Q()
    return ~Q(pk__in=single_ids) | Q(household__members__id__in=sorted(covered_ids))


def _living(on_date: datetime.date, path: str) -> Q:
    return Q(**{f"{path}death_date__isnull": True}) | Q(**{f"{path}death_date__gt": on_date})


def _years_before(month: datetime.date, years: int) -> datetime.date:
    return month.replace(year=month.year - years)


def dibao_person_figures(user, month: datetime.date, *, groups: bool = True) -> dict[str, dict[str, Any]]:
    """低保 persons in force (by group and by work ability unless `groups` is False), new and exited — one
    grouped query (plus the small 单人保 lookup). Each figure is a DISTINCT count of persons, so a household
    that (wrongly) held two 低保 entitlements at once is still counted once."""
    member = "household__members__"
    covered = _single_cover_filter(user, month)
    now = in_force(month) & _living(month, member) & covered
    elderly = Q(**{f"{member}birth_date__lte": _years_before(month, 60)})
    minor = Q(**{f"{member}birth_date__gt": _years_before(month, 18)})
    previous = add_months(month, -1)

    def persons(condition: Q) -> Count:
        return Count("household__members", filter=condition, distinct=True)

    rows = (
        Entitlement.objects.visible_to(user)
        .filter(benefit_type__code=DIBAO, household__isnull=False)
        .filter(in_force(month) | exited(month))
        .values("area_type")
        .order_by()
        .annotate(
            persons=persons(now),
            new_persons=persons(started(month) & _living(month, member) & covered),
            exited_persons=persons(exited(month) & _living(previous, member) & covered),
        )
    )
    if not groups:
        return _by_area(list(rows))
    rows = rows.annotate(
        female=persons(now & Q(**{f"{member}sex": Sex.FEMALE})),
        elderly=persons(now & elderly),
        adult=persons(now & ~elderly & ~minor),
        minor=persons(now & minor),
        disabled=persons(now & ~Q(**{f"{member}disability_category": ""})),
        labour_full=persons(now & Q(**{f"{member}labour_capacity": LabourCapacity.FULL})),
        labour_partial=persons(now & Q(**{f"{member}labour_capacity": LabourCapacity.PARTIAL})),
        labour_none=persons(now & Q(**{f"{member}labour_capacity": LabourCapacity.NONE})),
    )
    return _by_area(list(rows))


SPENDING_ITEMS = ("total", "base", "increment", "other", "adjust", "one_off")


def _code_range_q(user) -> Q:
    """The user's region-code prefix as a range beside the scope's LIKE (core.registry.querysets): the
    payment lines' (run, region_code) index then reads a district's lines of a month instead of every line
    of the year (issue 14: the dashboard's spending panel took ~0.4–3 s uncached)."""
    return scope_range_q(user)


def spending_figures(
    user, codes: Iterable[str], month: datetime.date, *, by_code: bool = False, year: bool = True
) -> dict:
    """Spending of the benefit types `codes` in month M and January..M, by item.

    {area: {"m_total", "m_base", …, "y_total", …}} (keys prefixed with the benefit code when by_code);
    `year=False`: month M only (no "y_" keys), read from the month's runs alone.

    A run whose summary holds its current calculation (core/benefits/summaries.py) is read from its
    summary — a few rows per community of the scope — and any other run (being calculated, a one-off run)
    from its lines: three small queries instead of one over every line of the period (a city's month:
    ~150,000 lines, 0.4–3 s; issue 14). `spending_figures_from_lines` is the former single query: the
    same figures."""
    return _spending_by_area(_spending_code_rows(user, codes, month, by_code=by_code, year=year), by_code)


def _spending_code_rows(user, codes: Iterable[str], month: datetime.date, *, by_code: bool, year: bool):
    """spending_figures' rows by 城乡 (and benefit code) before they are arranged by area."""
    first = month.replace(month=1) if year else month
    runs = PaymentRun.objects.filter(benefit_type__code__in=list(codes), month__gte=first, month__lte=month)
    summarized, unsummarized = [], []
    for pk, calculated_at, summary_of in runs.values_list("pk", "calculated_at", "summary_of"):
        fresh = calculated_at is not None and summary_of == calculated_at
        (summarized if fresh else unsummarized).append(pk)
    flat = []
    if summarized:
        flat += _spending_rows(
            PaymentRunSummary.objects.visible_to(user).filter(_code_range_q(user), run_id__any_of=summarized),
            month,
            by_code=by_code,
            year=year,
            area="area_type",
            amounts={"total": "total", "base": "base", "increment": "increment", "other": "other"},
            adjust=lambda when: Sum("adjust", filter=when),
            one_off=lambda when: Sum("one_off", filter=when),
        )
    if unsummarized:
        flat += _line_spending_rows(
            user, month, by_code=by_code, year=year, runs=Q(run_id__any_of=unsummarized)
        )
    merged: dict[tuple, dict] = {}
    for row in flat:
        key = (row["area"], row.get("code"))
        if key in merged:
            for name, value in row.items():
                if name not in ("area", "code"):
                    merged[key][name] += value
        else:
            merged[key] = row
    return list(merged.values())


def spending_figures_from_lines(
    user, codes: Iterable[str], month: datetime.date, *, by_code: bool = False, year: bool = True
) -> dict:
    """`spending_figures` read from the lines alone, in one grouped query (the reference it is tested
    against)."""
    runs = Q(
        run__benefit_type__code__in=list(codes),
        run__month__gte=month.replace(month=1) if year else month,
        run__month__lte=month,
    )
    return _spending_by_area(_line_spending_rows(user, month, by_code=by_code, year=year, runs=runs), by_code)


def _line_spending_rows(user, month: datetime.date, *, by_code: bool, year: bool, runs: Q) -> list[dict]:
    regular = Q(line_type=PaymentLine.LineType.REGULAR)
    adjustments = Q(line_type__in=[PaymentLine.LineType.BACK_PAY, PaymentLine.LineType.RECOVERY])
    one_off = Q(line_type=PaymentLine.LineType.ONE_OFF)
    return _spending_rows(
        PaymentLine.objects.visible_to(user).filter(_code_range_q(user), runs),
        month,
        by_code=by_code,
        year=year,
        area="entitlement__area_type",
        amounts={
            "total": "amount",
            "base": "base_amount",
            "increment": "increment_amount",
            "other": "other_amount",
        },
        regular=regular,
        adjust=lambda when: Sum("amount", filter=when & adjustments),
        one_off=lambda when: Sum("amount", filter=when & one_off),
    )


def _spending_rows(
    rows,
    month,
    *,
    by_code: bool,
    year: bool,
    area: str,
    amounts: dict,
    adjust,
    one_off,
    regular: Q | None = None,
) -> list[dict]:
    """Lines or summaries grouped by 城乡 (and benefit code), summed per period and item."""
    regular = regular or Q()
    periods = {"m": Q(run__month=month), "y": Q()} if year else {"m": Q()}
    sums = {}
    for period, when in periods.items():
        sums[f"{period}_total"] = Sum(amounts["total"], filter=when)
        sums[f"{period}_base"] = Sum(amounts["base"], filter=when & regular)
        sums[f"{period}_increment"] = Sum(amounts["increment"], filter=when & regular)
        sums[f"{period}_other"] = Sum(amounts["other"], filter=when & regular)
        sums[f"{period}_adjust"] = adjust(when)
        sums[f"{period}_one_off"] = one_off(when)
    group = ["area"] + (["code"] if by_code else [])
    rows = (
        rows.annotate(area=F(area), code=F("run__benefit_type__code"))
        .values(*group)
        .order_by()
        .annotate(**sums)
    )
    return [{k: v if v is not None or k in group else ZERO for k, v in row.items()} for row in rows]


def _spending_by_area(rows: Iterable[dict], by_code: bool) -> dict:
    flat = []
    for row in rows:
        row = dict(row)
        area = row.pop("area")
        code = row.pop("code", None)
        values = row
        if by_code:
            values = {f"{code}_{k}": v for k, v in values.items()}
        flat.append({"area": area, **values})
    return _by_area(flat, "area")


WORKBOOK_CODES = (DIBAO, TEKUN_BASIC, TEKUN_CARE, DISABILITY_LIVING, DISABILITY_CARE)
TEKUN_CODES = (TEKUN_BASIC, TEKUN_CARE)


def workbook_spending(user, month: datetime.date) -> list[dict]:
    """Every spending figure of the workbook's sheets (低保, 特困 by 供养方式, 两项补贴) in ONE grouped query:
    rows {"area", "code", "mode", "m_total", "m_base", …, "y_one_off"} by the entitlement's area, the run's
    benefit code and — for 特困 lines — the support mode (as `tekun_spending_by_mode` takes it).

    低保 and 两项补贴 come from the runs' summaries (`spending_figures`: a few rows per community and run;
    a run without a fresh summary from its lines) — the year's ~1.8 million lines of a city were most of
    the workbook's time (issue 14 item 7). 特困 needs each line's support mode, which no summary holds:
    its lines (a tenth of the year's) are read once, not once per sheet, and summed per entitlement before
    anything is joined — the entitlement (area, person) is then looked up once per entitlement rather than
    once per line (where a misestimated plan made it a nested loop per line) — and the runs are picked by
    id (one small query first) instead of a join the planner guessed at. The sums are those of
    `spending_figures` and `tekun_spending_by_mode` (tests/test_issue14_month_reports.py)."""
    from django.db import connection, transaction
    from django.db.models import Case, CharField, Value, When

    summarized = [code for code in WORKBOOK_CODES if code not in TEKUN_CODES]
    result = [
        {"mode": None, **row} for row in _spending_code_rows(user, summarized, month, by_code=True, year=True)
    ]
    runs = list(
        PaymentRun.objects.filter(
            benefit_type__code__in=TEKUN_CODES, month__gte=month.replace(month=1), month__lte=month
        ).values_list("id", "month", "benefit_type__code")
    )
    if not runs:
        return result
    this_month = Q(run_id__in=[pk for pk, run_month, _ in runs if run_month == month] or [0])  # 0: no run
    regular = Q(line_type=PaymentLine.LineType.REGULAR)
    adjustments = Q(line_type__in=[PaymentLine.LineType.BACK_PAY, PaymentLine.LineType.RECOVERY])
    one_off = Q(line_type=PaymentLine.LineType.ONE_OFF)
    sums = {}
    for period, when in (("m", this_month), ("y", Q())):
        sums[f"{period}_total"] = Sum("amount", filter=when)
        sums[f"{period}_base"] = Sum("base_amount", filter=when & regular)
        sums[f"{period}_increment"] = Sum("increment_amount", filter=when & regular)
        sums[f"{period}_other"] = Sum("other_amount", filter=when & regular)
        sums[f"{period}_adjust"] = Sum("amount", filter=when & adjustments)
        sums[f"{period}_one_off"] = Sum("amount", filter=when & one_off)
    codes = sorted({code for _, _, code in runs})
    run_code = Case(
        *[When(run_id__in=[pk for pk, _, c in runs if c == code], then=Value(code)) for code in codes],
        output_field=CharField(),
    )
    per_entitlement = (
        PaymentLine.objects.visible_to(user)
        .filter(_code_range_q(user), run_id__in=[pk for pk, _, _ in runs])
        .annotate(code=run_code)
        .values("entitlement_id", "code")
        .order_by()
        .annotate(**sums)
    )
    inner, params = per_entitlement.query.sql_with_params()
    names = list(sums)
    outer = ", ".join(f"SUM(s.{name}) AS {name}" for name in names)
    # The support mode: params' tier of the person's latest 特困 basic-living entitlement (any scope), as the
    # subquery of tekun_spending_by_mode — here one DISTINCT ON joined by person.
    sql = (
        f"SELECT e.area_type, s.code, CASE WHEN s.code = ANY(%s) THEN mode.tier END AS mode, {outer} "  # noqa: S608
        f"FROM ({inner}) s JOIN benefits_entitlement e ON e.id = s.entitlement_id "
        "LEFT JOIN (SELECT DISTINCT ON (b.person_id) b.person_id, b.params ->> 'tier' AS tier "
        "FROM benefits_entitlement b WHERE b.benefit_type_id IN "
        "(SELECT t.id FROM benefits_benefittype t WHERE t.code = %s) "
        "ORDER BY b.person_id, b.start_month DESC, b.id DESC) mode "
        "ON s.code = ANY(%s) AND mode.person_id = e.person_id "
        "GROUP BY 1, 2, 3"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ~150,000 per-entitlement sums at city scale: hashed in memory rather than sorted on disk
            # (the default 4 MB sends the sort to temporary files), for this statement only.
            cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, [list(TEKUN_CODES), *params, TEKUN_BASIC, list(TEKUN_CODES)])
        rows = cursor.fetchall()
    return result + [
        {
            "area": area,
            "code": code,
            "mode": mode,
            **{n: v if v is not None else ZERO for n, v in zip(names, values, strict=True)},
        }
        for area, code, mode, *values in rows
    ]


def _workbook_spending(ctx: StatisticsContext) -> list[dict]:
    """workbook_spending once per workbook (the sheets share it through the context)."""
    key = "assistance_spending"
    if key not in ctx.memo:
        ctx.memo[key] = workbook_spending(ctx.user, ctx.month)
    return ctx.memo[key]


def spending_of(rows: list[dict], codes: Iterable[str], *, by_code: bool = False) -> dict:
    """`spending_figures(user, codes, month, by_code=…)` from workbook_spending's rows."""
    codes = set(codes)
    flat = []
    for row in rows:
        if row["code"] not in codes:
            continue
        values = {f"{p}_{k}": row[f"{p}_{k}"] for p in ("m", "y") for k in SPENDING_ITEMS}
        if by_code:
            values = {f"{row['code']}_{k}": v for k, v in values.items()}
        flat.append({"area": row["area"], **values})
    return _by_area(flat, "area")


def tekun_spending_of(rows: list[dict]) -> dict:
    """`tekun_spending_by_mode(user, month)` from workbook_spending's rows."""
    flat = []
    for row in rows:
        if row["code"] not in TEKUN_CODES:
            continue
        item = "basic" if row["code"] == TEKUN_BASIC else "care"
        mode = {CENTRALISED: "c", DISPERSED: "d"}.get(row["mode"], "unknown")
        m, y = row["m_total"], row["y_total"]
        flat.append(
            {"area": row["area"], "m_total": m, "y_total": y, f"m_{item}_{mode}": m, f"y_{item}_{mode}": y}
        )
    return _by_area(flat, "area")


def unlocked_runs(codes: Iterable[str], month: datetime.date) -> list[str]:
    """Names of the benefit types whose run of `month` is not locked yet (its figures may still change)."""
    return list(
        PaymentRun.objects.filter(benefit_type__code__in=list(codes), month=month)
        .exclude(status=PaymentRun.Status.LOCKED)
        .values_list("benefit_type__name", flat=True)
        .distinct()
    )


def person_benefit_figures(
    user, codes: Iterable[str], month: datetime.date, *, tiers: Iterable[str] = ()
) -> dict:
    """Persons of person-level benefits in force, new and exited, per benefit code (and per params["tier"]
    for `tiers`) — one grouped query. Keys: "<code>_persons", "<code>_new", "<code>_exited",
    "<code>_tier_<n>" (n = index in `tiers`)."""
    codes = list(codes)
    annotations = {}
    for code in codes:
        mine = Q(benefit_type__code=code)
        annotations[f"{code}_persons"] = Count("person_id", filter=mine & in_force(month), distinct=True)
        annotations[f"{code}_new"] = Count("person_id", filter=mine & started(month), distinct=True)
        annotations[f"{code}_exited"] = Count("person_id", filter=mine & exited(month), distinct=True)
        for n, tier in enumerate(tiers):
            annotations[f"{code}_tier_{n}"] = Count(
                "person_id", filter=mine & in_force(month) & Q(params__tier=tier), distinct=True
            )
    rows = (
        Entitlement.objects.visible_to(user)
        .filter(benefit_type__code__in=codes, person__isnull=False)
        .filter(in_force(month) | exited(month))
        .values("area_type")
        .order_by()
        .annotate(**annotations)
    )
    return _by_area(list(rows))


def tekun_spending_by_mode(user, month: datetime.date) -> dict:
    """特困 spending by 供养方式 and item — one grouped query. A care line takes the support mode of the
    person's latest basic-living entitlement (the mode is recorded there, as its tier)."""
    basic_mode = Subquery(
        Entitlement.objects.filter(
            person_id=OuterRef("entitlement__person_id"), benefit_type__code=TEKUN_BASIC
        )
        .order_by("-start_month", "-id")
        .annotate(mode=KeyTextTransform("tier", "params"))
        .values("mode")[:1]
    )
    rows = (
        PaymentLine.objects.visible_to(user)
        .filter(
            run__benefit_type__code__in=[TEKUN_BASIC, TEKUN_CARE],
            run__month__gte=month.replace(month=1),
            run__month__lte=month,
        )
        .annotate(area=F("entitlement__area_type"), code=F("run__benefit_type__code"), mode=basic_mode)
        .values("area", "code", "mode")
        .order_by()
        .annotate(m=Sum("amount", filter=Q(run__month=month)), y=Sum("amount"))
    )
    flat = []
    for row in rows:
        item = "basic" if row["code"] == TEKUN_BASIC else "care"
        mode = {CENTRALISED: "c", DISPERSED: "d"}.get(row["mode"], "unknown")
        flat.append(
            {
                "area": row["area"],
                "m_total": row["m"] or ZERO,
                "y_total": row["y"] or ZERO,
                f"m_{item}_{mode}": row["m"] or ZERO,
                f"y_{item}_{mode}": row["y"] or ZERO,
            }
        )
    return _by_area(flat, "area")


def temporary_figures(user, month: datetime.date) -> dict:
    """临时救助 cases and amounts, this month and year to date, by 急难型/支出型 — one grouped query."""

    def period(first: datetime.date, last: datetime.date) -> Q:
        after = add_months(last, 1)
        paid = Q(payment_line__run__month__gte=first, payment_line__run__month__lte=last)
        closed = Q(
            payment_line__isnull=True, case__closed_at__date__gte=first, case__closed_at__date__lt=after
        )
        return paid | closed

    periods = {"m": period(month, month), "y": period(month.replace(month=1), month)}
    annotations = {}
    for key, when in periods.items():
        annotations[f"{key}_cases"] = Count("pk", filter=when)
        annotations[f"{key}_amount"] = Sum("approved_amount", filter=when)
        for kind in TempAssistanceKind:
            annotations[f"{key}_cases_{kind.value}"] = Count("pk", filter=when & Q(kind=kind))
            annotations[f"{key}_amount_{kind.value}"] = Sum("approved_amount", filter=when & Q(kind=kind))
    rows = (
        TempAssistanceCase.objects.visible_to(user)
        .filter(approved=True)
        .filter(periods["y"])
        .values(area=F("household__area_type"))
        .order_by()
        .annotate(**annotations)
    )
    flat = []
    for row in rows:
        for key, value in row.items():
            if value is None and key != "area":  # a Sum over no line
                row[key] = ZERO
        flat.append(row)
    return _by_area(flat, "area")


def dibao_standards(month: datetime.date) -> dict[str, Decimal | None]:
    benefit_type = BenefitType.objects.filter(code=DIBAO).first()
    if benefit_type is None:
        return {}
    standards = standards_in_force_map(benefit_type, month)
    result = {}
    for area, _ in AREAS:
        value = standards.get_for(area)
        result[area] = value.amount.quantize(Decimal("0.01")) if value else None
    return result


# --- sheet helpers ----------------------------------------------------------------------------------------


def _area_rows(table: StatisticsTable, figures: dict, keys: list[str], extra=None) -> None:
    """The 合计 / 城市 / 农村 rows of a table; `extra(area, values)` adds non-additive cells."""
    for area, label in ((TOTAL, "合计"), *AREAS):
        source = figures.get(area, {})
        values = {key: source.get(key, 0) for key in keys}
        if extra:
            values.update(extra(area, values))
        table.add_row(area, label, values, bold=area == TOTAL)


def _area_checks(table: StatisticsTable, keys: list[str]) -> None:
    table.check_column_sums(TOTAL, [area for area, _ in AREAS], keys)


def _money_cols(prefix: str, labels: list[tuple[str, str]]) -> list[Col]:
    return [Col(label, f"{prefix}{key}", kind="money") for key, label in labels]


def _draft_note(codes: list[str], month: datetime.date) -> list[str]:
    names = unlocked_runs(codes, month)
    if not names:
        return []
    return [f"注：{'、'.join(names)}{month.month}月发放批次尚未锁定，本月支出为计算数，锁定后可能变化。"]


def _average(amount: Decimal, persons: int) -> Decimal | None:
    if not persons:
        return None
    return (amount / persons).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- 城乡低保 -----------------------------------------------------------------------------------------------

SPENDING_LABELS = [
    ("total", "合计"),
    ("base", "基本保障金"),
    ("increment", "分类施保金"),
    ("other", "其他"),
    ("adjust", "补发/扣回"),
    ("one_off", "一次性发放"),
]


def build_dibao_section(ctx: StatisticsContext) -> StatisticsTable:
    month = ctx.month
    figures = dibao_household_figures(ctx.user, month)
    for area, values in dibao_person_figures(ctx.user, month).items():
        figures.setdefault(area, defaultdict(int)).update(values)
    for area, values in spending_of(_workbook_spending(ctx), [DIBAO]).items():
        figures.setdefault(area, defaultdict(int)).update(values)
    standards = dibao_standards(month)
    causes = [*POVERTY_CAUSES, (UNRECORDED, "未登记")]
    table = StatisticsTable(
        title="城乡最低生活保障情况月报表",
        unit="户、人、元",
        stub_label="城乡",
        columns=[
            Col("保障户数（户）", "households"),
            Col(
                "保障人数（人）",
                children=[
                    Col("合计", "persons"),
                    Col("其中：女性", "female"),
                    Col(
                        "按年龄分",
                        children=[
                            Col("老年人（60周岁及以上）", "elderly", width=11),
                            Col("成年人（18—59周岁）", "adult", width=11),
                            Col("未成年人（未满18周岁）", "minor", width=11),
                        ],
                    ),
                    Col("其中：残疾人", "disabled"),
                ],
            ),
            Col(
                "按劳动能力分（人）",
                children=[
                    Col("有劳动能力", "labour_full"),
                    Col("部分丧失劳动能力", "labour_partial", width=11),
                    Col("无劳动能力", "labour_none"),
                ],
            ),
            Col("按致贫原因分（户）", children=[Col(label, f"cause_{code}") for code, label in causes]),
            Col("本月新增", children=[Col("户数", "new_households"), Col("人数", "new_persons")]),
            Col("本月退出", children=[Col("户数", "exited_households"), Col("人数", "exited_persons")]),
            Col("本月支出（元）", children=_money_cols("m_", SPENDING_LABELS)),
            Col("本年累计支出（元）", children=_money_cols("y_", SPENDING_LABELS)),
            Col("月人均补助水平（元/人）", "average", kind="money", width=12),
            Col("低保标准（元/人·月）", "standard", kind="money", width=12),
        ],
    )
    additive = [c.key for c in table.leaf_columns() if c.key not in ("average", "standard")]

    def extra(area: str, values: dict) -> dict:
        monthly = values["m_base"] + values["m_increment"] + values["m_other"]
        return {
            "average": _average(Decimal(monthly), values["persons"]),
            "standard": standards.get(area) if area != TOTAL else None,
        }

    _area_rows(table, figures, additive, extra)
    table.check_row_sums("persons", ["elderly", "adult", "minor"])
    table.check_row_sums("persons", ["labour_full", "labour_partial", "labour_none"])
    table.check_row_sums("households", [f"cause_{code}" for code, _ in causes])
    for period in ("m", "y"):
        table.check_row_sums(f"{period}_total", [f"{period}_{k}" for k, _ in SPENDING_LABELS[1:]])
    _area_checks(table, additive)
    table.notes = [
        "注：1. 在保指当月应发放（起始月份≤报告期≤终止月份且未暂停）；本月退出指上月发放、本月起停发。",
        "2. 保障人数按报告期首日在世的保障家庭成员计（单人保仅计保障对象），年龄按报告期首日周岁计。",
        "3. 致贫原因取自低保待遇资格登记的致贫原因，未登记的计入“未登记”。",
        "4. 月人均补助水平 = 本月基本保障金、分类施保金和其他之和 ÷ 保障人数。",
        *_draft_note([DIBAO], month),
    ]
    return table


# --- 特困人员 ---------------------------------------------------------------------------------------------


def build_tekun_section(ctx: StatisticsContext) -> StatisticsTable:
    month = ctx.month
    people = person_benefit_figures(ctx.user, [TEKUN_BASIC], month, tiers=[CENTRALISED, DISPERSED])
    spending = tekun_spending_of(_workbook_spending(ctx))
    figures: dict[str, dict] = {}
    for area in {*people, *spending}:
        source = people.get(area, {})
        figures[area] = {
            "persons": source.get(f"{TEKUN_BASIC}_persons", 0),
            "centralised": source.get(f"{TEKUN_BASIC}_tier_0", 0),
            "dispersed": source.get(f"{TEKUN_BASIC}_tier_1", 0),
            "new": source.get(f"{TEKUN_BASIC}_new", 0),
            "exited": source.get(f"{TEKUN_BASIC}_exited", 0),
            **spending.get(area, {}),
        }

    def by_mode(period: str) -> list[Col]:
        return [
            Col("合计", f"{period}_total", kind="money"),
            Col(
                "基本生活费",
                children=[
                    Col("集中供养", f"{period}_basic_c", kind="money"),
                    Col("分散供养", f"{period}_basic_d", kind="money"),
                ],
            ),
            Col(
                "照料护理费",
                children=[
                    Col("集中供养", f"{period}_care_c", kind="money"),
                    Col("分散供养", f"{period}_care_d", kind="money"),
                ],
            ),
        ]

    table = StatisticsTable(
        title="特困人员救助供养情况月报表",
        unit="人、元",
        stub_label="城乡",
        columns=[
            Col(
                "供养人数（人）",
                children=[
                    Col("合计", "persons"),
                    Col("集中供养", "centralised"),
                    Col("分散供养", "dispersed"),
                ],
            ),
            Col("本月新增（人）", "new"),
            Col("本月退出（人）", "exited"),
            Col("本月支出（元）", children=by_mode("m")),
            Col("本年累计支出（元）", children=by_mode("y")),
        ],
    )
    additive = [c.key for c in table.leaf_columns()]
    _area_rows(table, figures, additive)
    table.check_row_sums("persons", ["centralised", "dispersed"])
    for period in ("m", "y"):
        table.check_row_sums(
            f"{period}_total", [f"{period}_{i}_{m}" for i in ("basic", "care") for m in "cd"]
        )
    _area_checks(table, additive)
    table.notes = [
        "注：供养方式取自特困人员基本生活费待遇资格的档次（集中供养/分散供养）；照料护理费按本人基本生活费的供养方式归类。",
        *_draft_note([TEKUN_BASIC, TEKUN_CARE], month),
    ]
    return table


# --- 临时救助 ---------------------------------------------------------------------------------------------


def build_temporary_section(ctx: StatisticsContext) -> StatisticsTable:
    figures = temporary_figures(ctx.user, ctx.month)
    kinds = [(kind.value, kind.label) for kind in TempAssistanceKind]

    def period(key: str, label: str) -> Col:
        return Col(
            label,
            children=[
                Col(
                    "救助人次",
                    children=[Col("合计", f"{key}_cases")] + [Col(lb, f"{key}_cases_{k}") for k, lb in kinds],
                ),
                Col(
                    "救助金额（元）",
                    children=[Col("合计", f"{key}_amount", kind="money")]
                    + [Col(lb, f"{key}_amount_{k}", kind="money") for k, lb in kinds],
                ),
            ],
        )

    table = StatisticsTable(
        title="临时救助情况月报表",
        unit="人次、元",
        stub_label="城乡",
        columns=[period("m", "本月"), period("y", "本年累计")],
    )
    additive = [c.key for c in table.leaf_columns()]
    _area_rows(table, figures, additive)
    for key in ("m", "y"):
        table.check_row_sums(f"{key}_cases", [f"{key}_cases_{k}" for k, _ in kinds])
        table.check_row_sums(f"{key}_amount", [f"{key}_amount_{k}" for k, _ in kinds])
    _area_checks(table, additive)
    table.notes = [
        "注：已批准的临时救助按发放批次月份统计；未经发放批次发放的，按案件办结月份统计。金额为批准金额。"
    ]
    return table


# --- 两项补贴 ---------------------------------------------------------------------------------------------


def build_disability_section(ctx: StatisticsContext) -> StatisticsTable:
    month = ctx.month
    codes = [DISABILITY_LIVING, DISABILITY_CARE]
    people = person_benefit_figures(ctx.user, codes, month)
    spending = spending_of(_workbook_spending(ctx), codes, by_code=True)
    figures: dict[str, dict] = {}
    for area in {*people, *spending}:
        values = dict(people.get(area, {}))
        money = spending.get(area, {})
        for period in ("m", "y"):
            parts = [money.get(f"{code}_{period}_total", ZERO) for code in codes]
            for code, part in zip(codes, parts, strict=True):
                values[f"{code}_{period}"] = part
            values[f"{period}_total"] = money.get(f"{DISABILITY_LIVING}_{period}_total", ZERO) + money.get(
                f"{DISABILITY_CARE}_{period}_total", ZERO
            )
        figures[area] = values

    def subsidy(code: str, label: str) -> Col:
        return Col(
            label,
            children=[
                Col("享受人数（人）", f"{code}_persons"),
                Col("本月新增（人）", f"{code}_new"),
                Col("本月退出（人）", f"{code}_exited"),
                Col("本月支出（元）", f"{code}_m", kind="money"),
                Col("本年累计支出（元）", f"{code}_y", kind="money"),
            ],
        )

    table = StatisticsTable(
        title="困难残疾人生活补贴和重度残疾人护理补贴情况月报表",
        unit="人、元",
        stub_label="城乡",
        columns=[
            subsidy(DISABILITY_LIVING, "困难残疾人生活补贴"),
            subsidy(DISABILITY_CARE, "重度残疾人护理补贴"),
            Col(
                "支出合计（元）",
                children=[Col("本月", "m_total", kind="money"), Col("本年累计", "y_total", kind="money")],
            ),
        ],
    )
    additive = [c.key for c in table.leaf_columns()]
    _area_rows(table, figures, additive)
    for period in ("m", "y"):
        table.check_row_sums(f"{period}_total", [f"{code}_{period}" for code in codes])
    _area_checks(table, additive)
    table.notes = [
        "注：同一人可同时享受两项补贴，故不设人数合计。",
        *_draft_note(codes, month),
    ]
    return table


register_statistics_section("assistance_dibao", "城乡低保", build_dibao_section, order=10)
register_statistics_section("assistance_tekun", "特困人员", build_tekun_section, order=20)
register_statistics_section("assistance_temporary", "临时救助", build_temporary_section, order=30)
register_statistics_section("assistance_disability", "两项补贴", build_disability_section, order=40)


# --- dashboard ----------------------------------------------------------------------------------------------


def caseload_panel(user, today: datetime.date) -> dict[str, Any]:
    """本月在保: households and persons per category, new and exited — four grouped queries."""
    month = month_start(today)
    households = dibao_household_figures(user, month, causes=False)
    persons = dibao_person_figures(user, month, groups=False)
    people = person_benefit_figures(user, [TEKUN_BASIC, DISABILITY_LIVING, DISABILITY_CARE], month)
    total = people.get(TOTAL, {})
    rows = []
    for area, label in AREAS:
        rows.append(
            {
                "label": f"{label}低保",
                "households": households.get(area, {}).get("households", 0),
                "persons": persons.get(area, {}).get("persons", 0),
                "new": households.get(area, {}).get("new_households", 0),
                "exited": households.get(area, {}).get("exited_households", 0),
                "unit": "户",
            }
        )
    for code, label in (
        (TEKUN_BASIC, "特困人员"),
        (DISABILITY_LIVING, "困难残疾人生活补贴"),
        (DISABILITY_CARE, "重度残疾人护理补贴"),
    ):
        rows.append(
            {
                "label": label,
                "households": None,
                "persons": total.get(f"{code}_persons", 0),
                "new": total.get(f"{code}_new", 0),
                "exited": total.get(f"{code}_exited", 0),
                "unit": "人",
            }
        )
    return {
        "month": month,
        "rows": rows,
        "persons_chart": bar_chart([(r["label"], r["persons"]) for r in rows]),
        "change_chart": bar_chart([(r["label"], r["new"]) for r in rows], second=[r["exited"] for r in rows]),
    }


def spending_panel(user, today: datetime.date) -> dict[str, Any]:
    """本月支出 per category — three grouped queries."""
    month = month_start(today)
    codes = [DIBAO, TEKUN_BASIC, TEKUN_CARE, DISABILITY_LIVING, DISABILITY_CARE]
    money = spending_figures(user, codes, month, by_code=True, year=False)
    temporary = temporary_figures(user, month).get(TOTAL, {})
    items = [(f"{label}低保", money.get(area, {}).get(f"{DIBAO}_m_total", ZERO)) for area, label in AREAS]
    total = money.get(TOTAL, {})
    items += [
        ("特困人员", total.get(f"{TEKUN_BASIC}_m_total", ZERO) + total.get(f"{TEKUN_CARE}_m_total", ZERO)),
        (
            "两项补贴",
            total.get(f"{DISABILITY_LIVING}_m_total", ZERO) + total.get(f"{DISABILITY_CARE}_m_total", ZERO),
        ),
        ("临时救助", temporary.get("m_amount", ZERO)),
    ]
    return {
        "month": month,
        "items": items,
        "total": sum((amount for _, amount in items), ZERO),
        "chart": bar_chart(items, money=True),
        "draft": unlocked_runs(codes, month),
    }


register_dashboard_panel(
    "assistance_caseload",
    caseload_panel,
    template="assistance/dashboard/caseload.html",
    permission="benefits.view_entitlement",
    order=10,
)
register_dashboard_panel(
    "assistance_spending",
    spending_panel,
    template="assistance/dashboard/spending.html",
    permission="benefits.view_paymentrun",
    order=20,
)
