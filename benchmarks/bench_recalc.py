"""Monthly recalculation in steady state (benchmarks/steady.py: twelve locked months, backdated income
changes, a standard raised three months back, late deaths): the engine in one transaction per type, the
production path street by street on Celery (one worker process, two), one plain SQL statement computing
the same regular and 补发/扣回 lines, and a fair naive per-row loop (one transaction, bulk_create) on a
seeded sample. Every engine contender's lines are compared with the SQL lines row by row in every
repetition; any difference exits non-zero. Prints one JSON line with the measurements.

Run by benchmarks/run.py (DATABASE_URL of the benchmark database in the environment)."""

# ruff: noqa: S608 — SQL built from fixed text in this file, values always passed as parameters

from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Sum  # noqa: E402

from assistance import rules  # noqa: E402
from core.benefits.calculators import get_calculator  # noqa: E402
from core.benefits.models import BenefitType, Entitlement, PaymentLine, PaymentRun  # noqa: E402
from core.benefits.months import add_months  # noqa: E402
from core.benefits.selectors import (  # noqa: E402
    ENTITLEMENT_ROW_FIELDS,
    entitlements_in_force_between,
    parameters_in_force,
    row_in_force,
    standards_in_force_map,
)
from core.benefits.services import (  # noqa: E402
    ADJUSTMENT_LOOKBACK_MONTHS,
    _checked,
    payment_run_recalculate,
)
from core.registry.models import Person  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import steady  # noqa: E402

MONTH = steady.MONTH  # the steady-state month: twelve locked months before it (benchmarks/steady.py)
PREVIOUS_MONTH = steady.LOCKED_MONTHS[-1]  # locked: the change flags and 停发 lines compare with it
CODES = ["dibao", "tekun_basic", "tekun_care", "disability_living", "disability_care"]
BASELINE_TITLE = "bench-baseline"
NAIVE_SAMPLE = int(os.environ.get("BENCH_NAIVE_SAMPLE", "1500"))
# The method, fixed before any result (benchmarks/README.md "Method"): PAIRS repetitions, the order of the
# contenders alternated (engine first on odd repetitions, SQL first on even ones), each ratio the median
# of the repetition-by-repetition ratios, reported with its range.
PAIRS = int(os.environ.get("BENCH_RECALC_PAIRS", "7"))
BYSTREET = os.environ.get("BENCH_BYSTREET", "1") != "0"  # the Celery runs (need Redis)

# One statement computing what the engine computes for these five types in the steady-state month: the
# month's regular lines (with change flags against the previous month and 停发 lines) and the 补发/扣回
# lines of every locked month of the past year — each locked month recomputed for every entitlement in
# force then, compared with what the locked runs paid for it (regular line plus earlier adjustments).
# 低保 on the basis in force for the month (params->'bases', assistance/bases.py: its income sums, its
# members, its covered persons alive on the 1st and their conditions at the decision), 补差 with the floor
# and 分类施保 (the highest ratio per member, or — mode 1 — each such member topped up to the floor share),
# 渐退期 amounts; fixed standards by tier (dated tiers, a stored tier, or the tier from the six self-care
# items); each amount rounded to the type's unit (分 or 元). The explanation is a small JSON object (the
# engine writes the full step-by-step explanation, several times larger).
SQL_BASELINE = """
WITH runs AS (
    SELECT r.id AS run_id, r.benefit_type_id, CASE WHEN b.rounding = 'yuan' THEN 0 ELSE 2 END AS digits
    FROM benefits_paymentrun r JOIN benefits_benefittype b ON b.id = r.benefit_type_id
    WHERE r.title = %(title)s
), months AS (
    SELECT benefit_type_id, %(month)s::date AS m, false AS locked FROM runs
    UNION ALL
    SELECT p.benefit_type_id, p.month, true FROM benefits_paymentrun p JOIN runs USING (benefit_type_id)
    WHERE p.kind = 'monthly' AND p.status = 'locked' AND p.month >= %(first_locked)s AND p.month < %(month)s
), std AS (
    SELECT DISTINCT ON (s.benefit_type_id, mo.m, s.area_type, s.tier)
           s.id, s.benefit_type_id, mo.m, s.area_type, s.tier, s.amount
    FROM benefits_standard s JOIN months mo ON mo.benefit_type_id = s.benefit_type_id
    WHERE s.effective_from <= mo.m AND (s.effective_to IS NULL OR s.effective_to >= mo.m)
    ORDER BY s.benefit_type_id, mo.m, s.area_type, s.tier, s.effective_from DESC, s.id DESC
), ent AS (
    SELECT e.id, e.benefit_type_id, e.area_type, e.params, mo.m, mo.locked, runs.run_id, runs.digits
    FROM benefits_entitlement e
    JOIN runs USING (benefit_type_id)
    JOIN months mo ON mo.benefit_type_id = e.benefit_type_id
    WHERE e.status <> 'suspended' AND e.start_month <= mo.m AND (e.end_month IS NULL OR e.end_month >= mo.m)
), dibao AS (
    SELECT d.*, b.basis
    FROM ent d
    CROSS JOIN LATERAL (
        SELECT x.value AS basis
        FROM jsonb_array_elements(d.params -> 'bases') WITH ORDINALITY AS x(value, i)
        WHERE (x.value ->> 'from')::date <= d.m
        ORDER BY (x.value ->> 'from')::date DESC, x.i DESC LIMIT 1
    ) b
    WHERE d.benefit_type_id = %(dibao)s
), covered_ids AS MATERIALIZED (
    SELECT d.id, d.m, pid.id::bigint AS person_id, d.basis -> 'conditions' -> pid.id AS cond
    FROM dibao d CROSS JOIN LATERAL jsonb_array_elements_text(d.basis -> 'covered') AS pid(id)
), covered_members AS (
    SELECT ci.id, ci.m, coalesce((ci.cond ->> 2)::boolean, false) AS ill, (ci.cond ->> 1)::int AS grade,
           date_part('year', age(ci.m, p.birth_date)) AS age
    FROM covered_ids ci JOIN registry_person p ON p.id = ci.person_id
    WHERE p.death_date IS NULL OR p.death_date > ci.m
), covered AS (
    SELECT c.id, c.m, count(*) AS n,
           sum(GREATEST(CASE WHEN c.ill THEN %(r_ill)s ELSE 0 END,
                        CASE WHEN c.grade IN (1, 2) THEN %(r_dis)s ELSE 0 END,
                        CASE WHEN c.age >= 70 THEN %(r70)s ELSE 0 END,
                        CASE WHEN c.age >= 60 OR c.age < 18 THEN %(r60)s ELSE 0 END)) AS ratio_sum,
           count(*) FILTER (WHERE c.ill OR c.grade IN (1, 2) OR c.age >= 60 OR c.age < 18) AS classified_n
    FROM covered_members c
    GROUP BY c.id, c.m
), dibao_calc AS (
    SELECT d.run_id, d.digits, d.id, d.m, d.locked, s.amount AS std, s.id AS std_id,
           coalesce(cv.n, 0) AS n, coalesce(cv.ratio_sum, 0) AS ratio_sum,
           coalesce(cv.classified_n, 0) AS classified_n, (d.basis ->> 'members')::int AS members,
           GREATEST(0, (d.basis ->> 'counted')::numeric - (d.basis ->> 'deducted')::numeric) AS net,
           CASE WHEN NULLIF(d.params ->> 'taper_until', '')::date >= d.m
                THEN (d.params ->> 'taper_amount')::numeric END AS taper
    FROM dibao d
    JOIN std s ON s.benefit_type_id = d.benefit_type_id AND s.m = d.m AND s.area_type = d.area_type
              AND s.tier = ''
    LEFT JOIN covered cv ON cv.id = d.id AND cv.m = d.m
), dibao_exact AS (
    SELECT *, CASE WHEN %(floor)s > 0 AND std - net / members < %(floor)s * std THEN %(floor)s * std * n
                   ELSE std * n - net * n / members END AS base_exact
    FROM dibao_calc WHERE taper IS NULL AND n > 0 AND members > 0 AND net / members < std
), dibao_lines AS (
    SELECT run_id, id, m, locked, n AS covered, base, increment, base + increment AS amount, std_id, '' AS tier
    FROM (
        SELECT *, round(base_exact, digits) AS base,
               round(CASE WHEN %(classified_floor)s
                          THEN classified_n * GREATEST(0, %(floor_share)s * std * n - base_exact) / n
                          ELSE std * ratio_sum END, digits) AS increment
        FROM dibao_exact
    ) x
    UNION ALL
    SELECT run_id, id, m, locked, n, round(taper, digits), 0, round(taper, digits), std_id, ''
    FROM dibao_calc WHERE taper IS NOT NULL
), fixed AS (
    SELECT e.run_id, e.digits, e.id, e.m, e.locked, e.area_type, e.benefit_type_id,
           coalesce((e.params ->> 'covered_persons')::int, 1) AS covered,
           coalesce(
               (SELECT t.value ->> 'tier'
                FROM jsonb_array_elements(CASE WHEN e.benefit_type_id = %(tekun_care)s
                                               THEN e.params -> 'tiers' END) WITH ORDINALITY AS t(value, i)
                WHERE (t.value ->> 'from')::date <= e.m
                ORDER BY (t.value ->> 'from')::date DESC, t.i DESC LIMIT 1),
               NULLIF(e.params ->> 'tier', ''),
               CASE WHEN e.benefit_type_id = %(tekun_care)s AND e.params ? 'self_care_items' THEN
                   (SELECT CASE WHEN count(*) FILTER (WHERE NOT v::boolean) = 0 THEN %(t_full_self)s
                                WHEN count(*) FILTER (WHERE NOT v::boolean) <= 3 THEN %(t_partial)s
                                ELSE %(t_full_care)s END
                    FROM jsonb_each_text(e.params -> 'self_care_items') AS s(k, v))
               END,
               '') AS tier
    FROM ent e WHERE e.benefit_type_id <> %(dibao)s
), fixed_lines AS (
    SELECT f.run_id, f.id, f.m, f.locked, f.covered, round(coalesce(s1.amount, s2.amount), f.digits) AS base,
           0 AS increment, round(coalesce(s1.amount, s2.amount), f.digits) AS amount,
           coalesce(s1.id, s2.id) AS std_id, f.tier
    FROM fixed f
    LEFT JOIN std s1 ON s1.benefit_type_id = f.benefit_type_id AND s1.m = f.m AND s1.area_type = f.area_type
                    AND s1.tier = f.tier
    LEFT JOIN std s2 ON s2.benefit_type_id = f.benefit_type_id AND s2.m = f.m AND s2.area_type = ''
                    AND s2.tier = f.tier
    WHERE coalesce(s1.amount, s2.amount) IS NOT NULL
), computed AS (
    SELECT * FROM dibao_lines WHERE amount <> 0
    UNION ALL
    SELECT * FROM fixed_lines WHERE amount <> 0
), prev AS (
    -- What each entitlement was paid in the previous month's run: the change flags and 停发 lines.
    SELECT runs.run_id, l.entitlement_id, l.amount, l.household_id, l.person_id, l.region_code
    FROM runs
    JOIN benefits_paymentrun p ON p.benefit_type_id = runs.benefit_type_id AND p.kind = 'monthly'
                              AND p.month = %(previous_month)s
    JOIN benefits_paymentline l ON l.run_id = p.id AND l.line_type = 'regular' AND l.amount > 0
), paid AS (
    -- What the locked runs paid per entitlement and locked month: its regular line and later 补发/扣回.
    SELECT runs.run_id, l.entitlement_id AS id, l.for_month AS m, sum(l.amount) AS amount,
           sum(l.base_amount) AS base, sum(l.increment_amount) AS increment, sum(l.other_amount) AS other
    FROM runs
    JOIN benefits_paymentrun p ON p.benefit_type_id = runs.benefit_type_id AND p.status = 'locked'
    JOIN benefits_paymentline l ON l.run_id = p.id
    JOIN months mo ON mo.benefit_type_id = runs.benefit_type_id AND mo.locked AND mo.m = l.for_month
    GROUP BY runs.run_id, l.entitlement_id, l.for_month
), adjust AS (
    SELECT coalesce(d.run_id, pd.run_id) AS run_id, coalesce(d.id, pd.id) AS id, coalesce(d.m, pd.m) AS m,
           coalesce(d.covered, 0) AS covered,
           coalesce(d.base, 0) - coalesce(pd.base, 0) AS base,
           coalesce(d.increment, 0) - coalesce(pd.increment, 0) AS increment,
           0 - coalesce(pd.other, 0) AS other,
           coalesce(d.amount, 0) - coalesce(pd.amount, 0) AS amount,
           coalesce(d.amount, 0) AS due, coalesce(pd.amount, 0) AS paid
    FROM (SELECT * FROM computed WHERE locked) d
    FULL JOIN paid pd ON pd.id = d.id AND pd.m = d.m
)
INSERT INTO benefits_paymentline (run_id, entitlement_id, household_id, person_id, region_code, line_type,
    for_month, covered_persons, base_amount, increment_amount, other_amount, amount, change, explanation)
SELECT c.run_id, c.id, coalesce(e.household_id, pp.household_id), e.person_id, e.region_code, 'regular',
       %(month)s, c.covered, c.base, c.increment, 0, c.amount,
       CASE WHEN p.entitlement_id IS NULL THEN 'new' WHEN p.amount <> c.amount THEN 'changed' ELSE '' END,
       jsonb_build_object('standard_id', c.std_id, 'tier', c.tier, 'base', c.base, 'increment', c.increment,
                          'total', c.amount)
       || CASE WHEN p.amount <> c.amount THEN jsonb_build_object('previous_amount', p.amount)
               ELSE '{}'::jsonb END
FROM computed c
JOIN benefits_entitlement e ON e.id = c.id
LEFT JOIN registry_person pp ON pp.id = e.person_id
LEFT JOIN prev p ON p.entitlement_id = c.id
WHERE NOT c.locked
UNION ALL
SELECT p.run_id, p.entitlement_id, p.household_id, p.person_id, p.region_code, 'regular', %(month)s, 0, 0, 0,
       0, 0, 'stopped',
       jsonb_build_object('previous_amount', p.amount, 'stop_reason',
                          CASE WHEN e.end_month < %(month)s THEN '待遇已终止'
                               WHEN e.status = 'suspended' THEN '待遇暂停发放' ELSE '本月计算金额为零' END)
FROM prev p JOIN benefits_entitlement e ON e.id = p.entitlement_id
WHERE NOT EXISTS (SELECT 1 FROM computed c WHERE c.id = p.entitlement_id AND NOT c.locked)
UNION ALL
SELECT a.run_id, a.id, coalesce(e.household_id, pp.household_id), e.person_id, e.region_code,
       CASE WHEN a.amount > 0 THEN 'back_pay' ELSE 'recovery' END, a.m, a.covered, a.base, a.increment,
       a.other, a.amount, '',
       jsonb_build_object('original_month', a.m, 'due', a.due, 'paid', a.paid, 'difference', a.amount)
FROM adjust a
JOIN benefits_entitlement e ON e.id = a.id
LEFT JOIN registry_person pp ON pp.id = e.person_id
WHERE a.amount <> 0 AND e.status <> 'suspended'
"""


def _delete_lines(runs) -> None:
    """One DELETE (QuerySet.delete() would load every line to check the PROTECT references to them)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM benefits_paymentline WHERE run_id = ANY(%s)", [[run.pk for run in runs]])


def _types() -> list[BenefitType]:
    return list(BenefitType.objects.filter(code__in=CODES).order_by("sort_order"))


def _baseline_runs(types: list[BenefitType]) -> list[PaymentRun]:
    """One-off runs (no uniqueness per month) that the baselines write into: the same table and indexes."""
    runs = []
    for bt in types:
        run, _ = PaymentRun.objects.get_or_create(
            benefit_type=bt, month=MONTH, kind=PaymentRun.Kind.ONE_OFF, title=BASELINE_TITLE
        )
        runs.append(run)
    _delete_lines(runs)
    return runs


def _vacuum() -> None:
    """Each contender writes ~150,000 lines, deleted again before the next one: vacuum them, as autovacuum
    would between two monthly runs, so that neither pays for the dead rows of the other; then a
    checkpoint, so that each starts with no dirty pages to write and the same write-ahead log ahead of it
    (a run writes ~500 MB of WAL, half of the default max_wal_size: without it, whichever contender
    crossed the line paid for a checkpoint)."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) benefits_paymentline")
        cursor.execute("CHECKPOINT")


def _vacuum_database() -> dict:
    """VACUUM (ANALYZE) the whole bench database once before the first contender, as autovacuum keeps a
    production database between two monthly runs. The steady state rewrites every person, household and
    entitlement row (steady._settle) and the year of locked runs writes 1.8 million lines: on a server
    with autovacuum off — this machine's, `autovacuum` is reported — those million dead rows stayed for the
    whole bench, and the engine paid for them on every read (2026-12-03: the first run after the setup
    108 s, the next 60 s, 52 s once vacuumed; benchmarks/README.md). Returns the seconds and the setting."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        autovacuum = cursor.fetchone()[0]
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("CHECKPOINT")
    return {"seconds": round(time.perf_counter() - started, 1), "autovacuum": autovacuum}


def _monthly_runs(types: list[BenefitType]) -> list[PaymentRun]:
    return list(PaymentRun.objects.filter(kind=PaymentRun.Kind.MONTHLY, month=MONTH, benefit_type__in=types))


def _runs_sql(kind: str) -> str:
    """The runs a contender writes into: the engine's monthly draft runs of MONTH, or the baseline's."""
    if kind == "engine":
        return (
            "SELECT id FROM benefits_paymentrun WHERE kind = 'monthly' AND month = %(month)s "
            "AND benefit_type_id = ANY(%(types)s)"
        )
    return "SELECT id FROM benefits_paymentrun WHERE title = %(title)s"


# --- CPU beside wall time: this process (getrusage) and every PostgreSQL backend of the bench database ---

_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    """utime + stime of a process, in seconds (/proc/<pid>/stat; 0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _backend_cpu() -> dict[int, float]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return {pid: _proc_cpu(pid) for (pid,) in cursor.fetchall()}


def _tree(pid: int) -> list[int]:
    """A process and its descendants (a Celery worker and its prefork children)."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return pids


class Clock:
    """Wall time, Python CPU (this process, or a worker's process tree) and PostgreSQL CPU (every backend
    of the bench database: a backend that started during the run counts from zero) of one contender."""

    def __init__(self, worker_pid: int | None = None):
        self.worker_pid = worker_pid

    def _python(self) -> float:
        if self.worker_pid is None:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            return usage.ru_utime + usage.ru_stime
        return sum(_proc_cpu(pid) for pid in _tree(self.worker_pid))

    def __enter__(self):
        self.pg = _backend_cpu()
        self.py = self._python()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.started
        self.py = self._python() - self.py
        after = _backend_cpu()
        self.pg = sum(cpu - self.pg.get(pid, 0.0) for pid, cpu in after.items())
        return False

    def result(self) -> dict:
        return {"wall": self.wall, "py_cpu": self.py, "pg_cpu": self.pg}


def _prepare_contender(types: list[BenefitType], runs: list[PaymentRun] | None = None) -> None:
    _delete_lines(runs if runs is not None else _monthly_runs(types))
    _vacuum()


def engine(types: list[BenefitType]) -> dict:
    """The five monthly runs of the steady-state month by the engine, one transaction per type
    (payment_run_recalculate, as the 20th's job does on one process), into draft runs emptied before the
    clock starts (as the SQL baseline's are)."""
    _prepare_contender(types)
    with Clock() as clock:
        for bt in types:
            payment_run_recalculate(benefit_type=bt, month=MONTH)
    return clock.result()


def _totals(run_ids_sql: str, params: dict) -> dict[str, list]:
    """{benefit type code: [lines, total amount, {line type/change flag: lines}]}."""
    totals: dict[str, list] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT b.code, l.line_type, l.change, count(*), sum(l.amount) FROM benefits_paymentline l "
            "JOIN benefits_paymentrun r ON r.id = l.run_id JOIN benefits_benefittype b ON b.id = r.benefit_type_id "
            f"WHERE l.run_id IN ({run_ids_sql}) GROUP BY 1, 2, 3",  # noqa: S608 — fixed text
            params,
        )
        for code, line_type, change, n, total in cursor.fetchall():
            entry = totals.setdefault(code, [0, Decimal(0), {}])
            entry[0] += n
            entry[1] += total
            key = line_type if line_type != "regular" else (change or "unchanged")
            entry[2][key] = entry[2].get(key, 0) + n
    return {code: [n, str(total), flags] for code, (n, total, flags) in sorted(totals.items())}


def _baseline_parameters(types: list[BenefitType]) -> dict:
    months = [*steady.LOCKED_MONTHS, MONTH]
    values = parameters_in_force(rules.DIBAO_AMOUNT_PARAMETERS, months[0])
    for month in months[1:]:  # one set of ratios in the statement: refuse a bench month where they moved
        if parameters_in_force(rules.DIBAO_AMOUNT_PARAMETERS, month) != values:
            raise SystemExit(
                f"the 低保 parameters change within the bench months ({month}): the baseline takes one set"
            )
    by_code = {bt.code: bt.pk for bt in types}
    return {
        "title": BASELINE_TITLE,
        "month": MONTH,
        "previous_month": PREVIOUS_MONTH,
        "first_locked": add_months(MONTH, -ADJUSTMENT_LOOKBACK_MONTHS),
        "dibao": by_code["dibao"],
        "tekun_care": by_code["tekun_care"],
        "t_full_self": rules.TIER_FULL_SELF_CARE,
        "t_partial": rules.TIER_PARTIAL_CARE,
        "t_full_care": rules.TIER_FULL_CARE,
        "r_ill": values[rules.P_SERIOUS_ILLNESS],
        "r_dis": values[rules.P_SEVERE_DISABILITY],
        "r70": values[rules.P_AGE70],
        "r60": values[rules.P_AGE60_OR_MINOR],
        "floor": values[rules.P_FLOOR_RATIO],
        "classified_floor": values[rules.P_CLASSIFIED_MODE] == rules.CLASSIFIED_FLOOR,
        "floor_share": values[rules.P_CLASSIFIED_FLOOR_SHARE],
    }


def sql_baseline(types: list[BenefitType]) -> dict:
    """The same lines by one INSERT … SELECT (SQL_BASELINE) into one-off runs of the same table. Its lines
    stay until the next repetition: every engine contender of the repetition is compared with them."""
    runs = _baseline_runs(types)
    parameters = _baseline_parameters(types)
    _prepare_contender(types, runs)
    with Clock() as clock, transaction.atomic(), connection.cursor() as cursor:
        _delete_lines(runs)  # the engine deletes the draft's lines too
        # The planner takes each CTE for a row or two (five runs, 65 months) and nests loops over
        # 60,000-row aggregates; hash joins throughout are what the statement needs (measured: > 10 min
        # with nested loops at 50,000 people).
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(SQL_BASELINE, parameters)
    return clock.result()


# --- per-line equality (item 2) ------------------------------------------------------------------------

_LINE_KEY = (
    "r.benefit_type_id, l.entitlement_id, l.line_type, l.for_month, l.amount, l.base_amount, "
    "l.increment_amount, l.other_amount, l.covered_persons, l.change"
)


def snapshot(types: list[BenefitType], name: str) -> None:
    """The engine contender's lines, kept (untimed) for comparison once the repetition's SQL lines exist."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS bench_snap_{name}")
        cursor.execute(
            f"CREATE TEMP TABLE bench_snap_{name} AS SELECT {_LINE_KEY} FROM benefits_paymentline l "  # noqa: S608
            f"JOIN benefits_paymentrun r ON r.id = l.run_id WHERE l.run_id IN ({_runs_sql('engine')})",
            {"month": MONTH, "types": [bt.pk for bt in types]},
        )


def differences(name: str, limit: int = 20) -> tuple[int, list[tuple]]:
    """The lines of snapshot `name` and of the SQL baseline that are not in the other (EXCEPT both ways on
    type, entitlement, line type, month, amount, base/increment/other split, covered persons and change
    flag): (how many, the first `limit` of them, each marked engine-only or SQL-only)."""
    baseline = (
        f"SELECT {_LINE_KEY} FROM benefits_paymentline l JOIN benefits_paymentrun r ON r.id = l.run_id "
        f"WHERE l.run_id IN ({_runs_sql('sql')})"
    )
    query = (
        f"(SELECT 'engine only', * FROM (SELECT * FROM bench_snap_{name} EXCEPT ALL {baseline}) a) "  # noqa: S608
        f"UNION ALL (SELECT 'SQL only', * FROM ({baseline} EXCEPT ALL SELECT * FROM bench_snap_{name}) b) "
        "ORDER BY 3, 4, 5, 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({query}) d", {"title": BASELINE_TITLE})
        count = cursor.fetchone()[0]
        cursor.execute(f"{query} LIMIT {limit}", {"title": BASELINE_TITLE})
        return count, cursor.fetchall()


class _Undo(Exception):
    pass


def comparison_catches_a_changed_line(name: str) -> bool:
    """The comparison can fail: with one line of snapshot `name` moved by 0.01 元 it must report two
    differing lines (engine only, SQL only). Done in a transaction rolled back afterwards; checked on every
    repetition before the real comparison, so a comparison that matched everything would fail the bench."""
    found: list = []
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE bench_snap_{name} SET amount = amount + 0.01 "  # noqa: S608
                f"WHERE ctid = (SELECT ctid FROM bench_snap_{name} WHERE amount <> 0 LIMIT 1)"
            )
            if cursor.rowcount == 1:
                found.append(differences(name, limit=2))
            raise _Undo
    except _Undo:
        pass
    if not found:
        return False
    count, rows = found[0]
    return count == 2 and {row[0] for row in rows} == {"engine only", "SQL only"}


# --- the production path: street by street on Celery (item 3) ------------------------------------------

CELERY_URL = os.environ.get("BENCH_CELERY_URL", "redis://127.0.0.1:6379/14")


class Worker:
    """A real Celery worker (production settings, Redis) with `processes` prefork processes on its own
    queue, started once and reused by every repetition."""

    def __init__(self, processes: int):
        import subprocess

        self.processes = processes
        self.queue = f"bench-recalc-{os.getpid()}-{processes}"
        self.name = f"{self.queue}@localhost"
        env = {
            **os.environ,
            # As in production: persistent database connections (CONN_MAX_AGE) and DEBUG off.
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            # DJANGO_SECRET_KEY and the personal-data keys come from run.py's ENV
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "CELERY_BROKER_URL": CELERY_URL,
            "CELERY_RESULT_BACKEND": CELERY_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,  # the parts the start task sends go to this worker
        }
        self.process = subprocess.Popen(  # noqa: S603 — fixed local command
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-c", str(processes), "-Q", self.queue]
            + ["-n", self.name, "-l", "warning", "--without-gossip", "--without-mingle"]
            + ["--prefetch-multiplier", "1"],
            cwd=Path(__file__).resolve().parent.parent,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        from config.celery_app import app

        app.conf.update(broker_url=CELERY_URL, result_backend=CELERY_URL, task_always_eager=False)
        self.app = app
        deadline = time.monotonic() + 120
        while not app.control.ping(destination=[self.name], timeout=1.0):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the Celery worker ({processes} processes) did not start")

    def run(self, types: list[BenefitType]) -> dict:
        """The five runs by street (benefits.recalculate_run_by_street: one task per part, a chord summing
        them): from sending the five tasks to the last callback."""
        from celery.result import AsyncResult

        from core.benefits.tasks import recalculate_run_by_street

        _prepare_contender(types)
        with Clock(worker_pid=self.process.pid) as clock:
            sent = [
                recalculate_run_by_street.apply_async((bt.code, MONTH.isoformat()), queue=self.queue)
                for bt in types
            ]
            finish_ids = [result.get(timeout=600)["finish_id"] for result in sent]
            for finish_id in finish_ids:
                if finish_id:
                    AsyncResult(finish_id, app=self.app).get(timeout=1800)
        return clock.result()

    def stop(self) -> None:
        import signal
        import subprocess

        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


# --- a fair naive baseline (item 4) ---------------------------------------------------------------------

NAIVE_TITLE = "bench-naive"


def naive(types: list[BenefitType]) -> dict:
    """What a Django developer would write first, made fair: one transaction, and the lines written with
    one bulk_create at the end. Per entitlement: the row, then for the month and each locked month in force
    its standards and facts with their own queries, computed with the same calculator; what the locked
    runs paid and the previous month's line, one query each. On a seeded random sample of the
    entitlements the engine considers; its lines are checked against the engine's for the same
    entitlements (the engine's lines of the last repetition are in the draft runs)."""
    runs = {}
    for bt in types:
        run, _ = PaymentRun.objects.get_or_create(
            benefit_type=bt, month=MONTH, kind=PaymentRun.Kind.ONE_OFF, title=NAIVE_TITLE
        )
        runs[bt.pk] = run
    _delete_lines(runs.values())
    months = sorted(
        PaymentRun.objects.filter(
            benefit_type__in=types,
            kind=PaymentRun.Kind.MONTHLY,
            status=PaymentRun.Status.LOCKED,
            month__gte=add_months(MONTH, -ADJUSTMENT_LOOKBACK_MONTHS),
            month__lt=MONTH,
        )
        .order_by()
        .values_list("month", flat=True)
        .distinct()
    )
    candidates = sorted(
        pk for bt in types for pk in (r["id"] for r in entitlements_in_force_between(bt, months[0], MONTH))
    )
    sample = random.Random(steady.SEED).sample(candidates, min(NAIVE_SAMPLE, len(candidates)))
    calculators = {bt.pk: get_calculator(bt) for bt in types}
    by_pk = {bt.pk: bt for bt in types}
    with Clock() as clock, transaction.atomic():
        lines = []
        for pk in sample:
            row = Entitlement.objects.filter(pk=pk).values(*ENTITLEMENT_ROW_FIELDS).get()
            person = Person.objects.filter(pk=row["person_id"]).first() if row["person_id"] else None
            row["person_household_id"] = person.household_id if person else None
            bt = by_pk[row["benefit_type_id"]]
            calculator = calculators[bt.pk]
            due = {}
            for month in [*months, MONTH]:
                if not row_in_force(row, month):
                    continue
                standards = standards_in_force_map(bt, month)
                facts = calculator.load_facts([row], month)
                result = _checked(calculator, row, calculator.compute(row, facts, standards, month), month)
                if result is not None and result.amount != 0:
                    due[month] = result
            household = row["household_id"] or row["person_household_id"]
            common = {
                "run": runs[bt.pk],
                "entitlement_id": pk,
                "household_id": household,
                "person_id": row["person_id"],
                "region_code": row["region_code"],
            }
            previous = (
                PaymentLine.objects.filter(
                    run__benefit_type=bt,
                    run__kind=PaymentRun.Kind.MONTHLY,
                    run__month=PREVIOUS_MONTH,
                    entitlement_id=pk,
                    line_type="regular",
                    amount__gt=0,
                )
                .values_list("amount", flat=True)
                .first()
            )
            current = due.pop(MONTH, None)
            if current is not None:
                change = "new" if previous is None else ("changed" if previous != current.amount else "")
                lines.append(
                    PaymentLine(
                        **common,
                        line_type="regular",
                        for_month=MONTH,
                        covered_persons=current.covered_persons,
                        base_amount=current.base_amount,
                        increment_amount=current.increment_amount,
                        other_amount=current.other_amount,
                        amount=current.amount,
                        change=change,
                        explanation=json.loads(json.dumps(current.explanation, default=str)),
                    )
                )
            elif previous is not None:
                lines.append(
                    PaymentLine(
                        **common,
                        line_type="regular",
                        for_month=MONTH,
                        covered_persons=0,
                        base_amount=0,
                        increment_amount=0,
                        other_amount=0,
                        amount=0,
                        change="stopped",
                        explanation={"previous_amount": str(previous)},
                    )
                )
            paid = {
                r["for_month"]: r
                for r in PaymentLine.objects.filter(
                    entitlement_id=pk, run__status=PaymentRun.Status.LOCKED, for_month__in=months
                )
                .values("for_month")
                .annotate(
                    amount=Sum("amount"),
                    base=Sum("base_amount"),
                    increment=Sum("increment_amount"),
                    other=Sum("other_amount"),
                )
                .order_by()
            }
            for month in months:
                result, before = due.get(month), paid.get(month, {})
                amount = (result.amount if result else 0) - (before.get("amount") or 0)
                if amount == 0:
                    continue
                lines.append(
                    PaymentLine(
                        **common,
                        line_type="back_pay" if amount > 0 else "recovery",
                        for_month=month,
                        covered_persons=result.covered_persons if result else 0,
                        base_amount=(result.base_amount if result else 0) - (before.get("base") or 0),
                        increment_amount=(result.increment_amount if result else 0)
                        - (before.get("increment") or 0),
                        other_amount=(result.other_amount if result else 0) - (before.get("other") or 0),
                        amount=amount,
                        change="",
                        explanation={"recomputed": json.loads(json.dumps(result.explanation, default=str))}
                        if result
                        else {},
                    )
                )
        PaymentLine.objects.bulk_create(lines, batch_size=2000)
    # The naive lines against the engine's for the sampled entitlements.
    key = (
        "r.benefit_type_id, l.entitlement_id, l.line_type, l.for_month, l.amount, l.base_amount, "
        "l.increment_amount, l.covered_persons, l.change"
    )
    naive_sql = (
        f"SELECT {key} FROM benefits_paymentline l JOIN benefits_paymentrun r ON r.id = l.run_id "
        "WHERE r.title = %(naive)s"
    )
    engine_sql = (
        f"SELECT {key} FROM benefits_paymentline l JOIN benefits_paymentrun r ON r.id = l.run_id "
        f"WHERE l.run_id IN ({_runs_sql('engine')}) AND l.entitlement_id = ANY(%(sample)s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (({naive_sql} EXCEPT ALL {engine_sql}) UNION ALL "  # noqa: S608
            f"({engine_sql} EXCEPT ALL {naive_sql})) d",
            {"naive": NAIVE_TITLE, "month": MONTH, "types": [bt.pk for bt in types], "sample": sample},
        )
        mismatched = cursor.fetchone()[0]
    _delete_lines(runs.values())
    return {
        **clock.result(),
        "sample": len(sample),
        "population": len(candidates),
        "lines": len(lines),
        "mismatched": mismatched,
    }


# --- the method (item 8) --------------------------------------------------------------------------------


def _prepare_steady_state_elsewhere() -> dict:
    """steady.prepare in a process of its own, which then exits. The one-transaction contender runs in
    this process: run in the process that had just built the steady state (twelve months calculated and
    locked, ~6 minutes of work), it took 51.1 s with 41.7 s of Python CPU, where a fresh process took
    29.5–30.8 s with 19.3–20.0 s on the same database minutes later (fourteenth session, Intel host;
    7b8f02e's 89 s on an AMD host likewise) — the benches that reused a prepared state did not show it.
    The Celery contenders always ran in fresh worker processes, so the ratios compared unlike processes."""
    result = subprocess.run(  # noqa: S603 — this file, this interpreter
        [sys.executable, __file__, "--prepare-steady-state"], check=True, text=True, capture_output=True
    )
    sys.stderr.write(result.stderr[-5000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    types = _types()
    setup_started = time.perf_counter()
    steady_done = _prepare_steady_state_elsewhere()
    setup_s = time.perf_counter() - setup_started
    vacuum = _vacuum_database()
    entitlements = Entitlement.objects.filter(benefit_type__in=types).count()
    workers = {}
    if BYSTREET:
        workers = {1: Worker(1), 2: Worker(2)}
    contenders = ["onetx", *(["bystreet1", "bystreet2"] if BYSTREET else [])]
    measured: dict[str, list[dict]] = {name: [] for name in [*contenders, "sql"]}
    failures: list[str] = []
    totals = {}
    try:
        for pair in range(1, PAIRS + 1):
            order = [*contenders, "sql"] if pair % 2 else ["sql", *reversed(contenders)]
            for name in order:
                if name == "sql":
                    measured[name].append(sql_baseline(types))
                    totals["sql"] = _totals(_runs_sql("sql"), {"title": BASELINE_TITLE})
                    continue
                if name == "onetx":
                    measured[name].append(engine(types))
                else:
                    measured[name].append(workers[int(name[-1])].run(types))
                snapshot(types, name)
                totals[name] = _totals(
                    _runs_sql("engine"), {"month": MONTH, "types": [bt.pk for bt in types]}
                )
            for name in contenders:
                if not comparison_catches_a_changed_line(name):
                    failures.append(
                        f"pair {pair}, {name}: the comparison did not catch a line changed on purpose"
                    )
                count, rows = differences(name)
                if count:
                    failures.append(f"pair {pair}, {name}: {count} lines differ from the SQL baseline")
                    print(f"pair {pair}: {name} and SQL differ in {count} lines (first 20):", file=sys.stderr)
                    for row in rows:
                        print("  ", row, file=sys.stderr)
            print(
                f"pair {pair}: " + ", ".join(f"{n} {measured[n][-1]['wall']:.2f} s" for n in order),
                file=sys.stderr,
            )
    finally:
        for worker in workers.values():
            worker.stop()
    naive_result = naive(types) if NAIVE_SAMPLE else None
    if naive_result and naive_result["mismatched"]:
        failures.append(
            f"the naive loop's lines differ from the engine's in {naive_result['mismatched']} lines"
        )
    # The baselines' one-off runs emptied once compared: no bureau has one-off runs of these types, and
    # the web part's dashboard would read their 460,000 lines as the month's spending (an artefact the
    # item-6 helper measured: 150–400 ms of the uncached dashboard, and twice the month's spending shown).
    _delete_lines(
        list(
            PaymentRun.objects.filter(
                benefit_type__in=types,
                month=MONTH,
                kind=PaymentRun.Kind.ONE_OFF,
                title__in=[BASELINE_TITLE, NAIVE_TITLE],
            )
        )
    )
    _vacuum()
    result = {
        "entitlements": entitlements,
        "pairs": PAIRS,
        "setup": steady_done,
        "setup_s": setup_s,
        "vacuum": vacuum,
        "measured": measured,
        "totals": totals,
        "naive": naive_result,
        "failures": failures,
    }
    print(json.dumps(result, default=lambda v: str(v) if isinstance(v, Decimal) else v))
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    if "--prepare-steady-state" in sys.argv:
        print(json.dumps(steady.prepare(_types()), default=str))
    else:
        main()
