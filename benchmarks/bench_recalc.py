"""Monthly recalculation of every entitlement: the engine vs one plain SQL INSERT … SELECT vs a naive
per-row ORM loop (on a sample, extrapolated). Prints one JSON line with the timings.

Run by benchmarks/run.py (DATABASE_URL of the benchmark database in the environment)."""

from __future__ import annotations

import datetime
import json
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Sum  # noqa: E402

from assistance import rules  # noqa: E402
from core.benefits.calculators import get_calculator  # noqa: E402
from core.benefits.models import BenefitType, Entitlement, PaymentLine, PaymentRun  # noqa: E402
from core.benefits.selectors import (  # noqa: E402
    ENTITLEMENT_ROW_FIELDS,
    parameters_in_force,
    standards_in_force_map,
)
from core.benefits.services import payment_run_recalculate  # noqa: E402

MONTH = datetime.date(2026, 12, 1)
PREVIOUS_MONTH = datetime.date(
    2026, 11, 1
)  # calculated first: the change flags and 停发 lines compare with it
CODES = ["dibao", "tekun_basic", "tekun_care", "disability_living", "disability_care"]
BASELINE_TITLE = "bench-baseline"
NAIVE_SAMPLE = int(os.environ.get("BENCH_NAIVE_SAMPLE", "1500"))
# Engine and SQL alternate this many times; each is reported as its best (the machine is shared: single
# runs of the same code vary by up to 1.4×).
REPEAT = int(os.environ.get("BENCH_RECALC_REPEAT", "3"))

# One statement computing what the engine computes for these five types: 低保 补差 with the floor and
# 分类施保 (dibao.classified.*: the highest ratio per member added, or — mode 1 — each such member topped
# up to the floor share of the standard), and the fixed standards by tier. The explanation is a small JSON
# object (the engine writes the full step-by-step explanation, several times larger).
SQL_BASELINE = """
WITH runs AS (
    SELECT id AS run_id, benefit_type_id FROM benefits_paymentrun WHERE title = %(title)s
), std AS (
    SELECT DISTINCT ON (benefit_type_id, area_type, tier) id, benefit_type_id, area_type, tier, amount
    FROM benefits_standard
    WHERE effective_from <= %(month)s AND (effective_to IS NULL OR effective_to >= %(month)s)
    ORDER BY benefit_type_id, area_type, tier, effective_from DESC, id DESC
), ent AS (
    SELECT e.*, runs.run_id FROM benefits_entitlement e JOIN runs USING (benefit_type_id)
    WHERE e.status <> 'suspended' AND e.start_month <= %(month)s
      AND (e.end_month IS NULL OR e.end_month >= %(month)s)
), dibao AS (
    SELECT * FROM ent WHERE benefit_type_id = %(dibao)s
), mem AS (
    SELECT p.household_id, count(*) AS n,
           sum(GREATEST(
               CASE WHEN p.serious_illness THEN %(r_ill)s ELSE 0 END,
               CASE WHEN p.disability_grade IN (1, 2) THEN %(r_dis)s ELSE 0 END,
               CASE WHEN date_part('year', age(%(month)s, p.birth_date)) >= 70 THEN %(r70)s ELSE 0 END,
               CASE WHEN date_part('year', age(%(month)s, p.birth_date)) >= 60
                      OR date_part('year', age(%(month)s, p.birth_date)) < 18 THEN %(r60)s ELSE 0 END
           )) AS ratio_sum,
           count(*) FILTER (WHERE p.serious_illness OR p.disability_grade IN (1, 2)
                              OR date_part('year', age(%(month)s, p.birth_date)) >= 60
                              OR date_part('year', age(%(month)s, p.birth_date)) < 18) AS classified_n
    FROM registry_person p
    WHERE p.household_id IN (SELECT household_id FROM dibao)
      AND (p.death_date IS NULL OR p.death_date > %(month)s)
    GROUP BY p.household_id
), inc AS (
    SELECT household_id,
           coalesce(sum(monthly_amount) FILTER (WHERE NOT (kind = ANY(%(not_counted)s))), 0) AS counted,
           coalesce(sum(monthly_amount) FILTER (WHERE kind = ANY(%(deducted)s)), 0) AS deducted
    FROM registry_incomerecord
    WHERE household_id IN (SELECT household_id FROM dibao)
      AND period_start <= %(month)s AND (period_end IS NULL OR period_end >= %(month)s)
    GROUP BY household_id
), dibao_calc AS (
    SELECT d.run_id, d.id, d.household_id, d.region_code, s.amount AS std, s.id AS std_id, mem.n,
           mem.ratio_sum, mem.classified_n,
           GREATEST(0, coalesce(inc.counted, 0) - coalesce(inc.deducted, 0)) AS net
    FROM dibao d
    JOIN std s ON s.benefit_type_id = d.benefit_type_id AND s.area_type = d.area_type AND s.tier = ''
    JOIN mem ON mem.household_id = d.household_id
    LEFT JOIN inc ON inc.household_id = d.household_id
), dibao_exact AS (
    SELECT *, GREATEST(std * n - net, %(floor)s * std * n) AS base_exact FROM dibao_calc WHERE net / n < std
), dibao_lines AS (
    SELECT *, round(base_exact, 2) AS base,
           CASE WHEN %(classified_floor)s
                THEN round(classified_n * GREATEST(0, %(floor_share)s * std * n - base_exact) / n, 2)
                ELSE round(std * ratio_sum, 2) END AS increment
    FROM dibao_exact
), fixed_lines AS (
    SELECT e.run_id, e.id, coalesce(e.household_id, p.household_id) AS household_id, e.person_id,
           e.region_code, coalesce((e.params ->> 'covered_persons')::int, 1) AS covered,
           round(coalesce(s1.amount, s2.amount), 2) AS amount, coalesce(s1.id, s2.id) AS std_id,
           coalesce(e.params ->> 'tier', '') AS tier
    FROM ent e
    LEFT JOIN registry_person p ON p.id = e.person_id
    LEFT JOIN std s1 ON s1.benefit_type_id = e.benefit_type_id AND s1.area_type = e.area_type
                    AND s1.tier = coalesce(e.params ->> 'tier', '')
    LEFT JOIN std s2 ON s2.benefit_type_id = e.benefit_type_id AND s2.area_type = ''
                    AND s2.tier = coalesce(e.params ->> 'tier', '')
    WHERE e.benefit_type_id <> %(dibao)s
), prev AS (
    -- What each entitlement was paid in the previous month's run: the change flags and 停发 lines.
    SELECT runs.run_id, l.entitlement_id, l.amount, l.household_id, l.person_id, l.region_code
    FROM runs
    JOIN benefits_paymentrun p ON p.benefit_type_id = runs.benefit_type_id AND p.kind = 'monthly'
                              AND p.month = %(previous_month)s
    JOIN benefits_paymentline l ON l.run_id = p.id AND l.line_type = 'regular' AND l.amount > 0
), computed AS (
    SELECT run_id, id, household_id, NULL::bigint AS person_id, region_code, n AS covered, base, increment,
           base + increment AS amount,
           jsonb_build_object('standard_id', std_id, 'standard', std, 'members', n,
                              'per_capita_income', round(net / n, 2), 'base', base, 'increment', increment,
                              'total', base + increment) AS explanation
    FROM dibao_lines
    UNION ALL
    SELECT run_id, id, household_id, person_id, region_code, covered, amount, 0, amount,
           jsonb_build_object('standard_id', std_id, 'standard', amount, 'tier', tier, 'total', amount)
    FROM fixed_lines
)
INSERT INTO benefits_paymentline (run_id, entitlement_id, household_id, person_id, region_code, line_type,
    for_month, covered_persons, base_amount, increment_amount, other_amount, amount, change, explanation)
SELECT c.run_id, c.id, c.household_id, c.person_id, c.region_code, 'regular', %(month)s, c.covered, c.base,
       c.increment, 0, c.amount,
       CASE WHEN p.entitlement_id IS NULL THEN 'new' WHEN p.amount <> c.amount THEN 'changed' ELSE '' END,
       CASE WHEN p.amount <> c.amount THEN c.explanation || jsonb_build_object('previous_amount', p.amount)
            ELSE c.explanation END
FROM computed c LEFT JOIN prev p ON p.entitlement_id = c.id
UNION ALL
SELECT p.run_id, p.entitlement_id, p.household_id, p.person_id, p.region_code, 'regular', %(month)s, 0, 0, 0,
       0, 0, 'stopped',
       jsonb_build_object('previous_amount', p.amount, 'stop_reason',
                          CASE WHEN e.end_month < %(month)s THEN '待遇已终止'
                               WHEN e.status = 'suspended' THEN '待遇暂停发放' ELSE '本月计算金额为零' END)
FROM prev p JOIN benefits_entitlement e ON e.id = p.entitlement_id
WHERE NOT EXISTS (SELECT 1 FROM computed c WHERE c.id = p.entitlement_id)
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


def _monthly_runs(types: list[BenefitType]) -> list[PaymentRun]:
    return list(PaymentRun.objects.filter(kind=PaymentRun.Kind.MONTHLY, month=MONTH, benefit_type__in=types))


def engine(types: list[BenefitType]) -> tuple[float, dict]:
    """The five monthly runs calculated for the month, as the 20th's job does: into draft runs with no
    lines yet (the previous contender's lines are deleted before the clock starts, as the SQL baseline's
    are — both then write into empty runs)."""
    _delete_lines(_monthly_runs(types))
    _vacuum()
    started = time.perf_counter()
    for bt in types:
        payment_run_recalculate(benefit_type=bt, month=MONTH)
    elapsed = time.perf_counter() - started
    return elapsed, _totals(PaymentLine.objects.filter(run__in=_monthly_runs(types)))


def _totals(lines) -> dict[str, list]:
    """{benefit type code: [lines, total amount, {change flag: lines}]} — what both contenders must agree on."""
    totals: dict[str, list] = {}
    rows = (
        lines.values_list("run__benefit_type__code", "change")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by()
    )
    for code, change, n, total in rows:
        entry = totals.setdefault(code, [0, Decimal(0), {}])
        entry[0] += n
        entry[1] += total
        entry[2][change or "unchanged"] = n
    return {code: [n, str(total), changes] for code, (n, total, changes) in sorted(totals.items())}


def sql_baseline(types: list[BenefitType]) -> tuple[float, dict]:
    runs = _baseline_runs(types)
    parameters = {
        "title": BASELINE_TITLE,
        "month": MONTH,
        "previous_month": PREVIOUS_MONTH,
        "dibao": next(bt.pk for bt in types if bt.code == "dibao"),
        "not_counted": rules._NOT_COUNTED_KINDS,
        "deducted": rules._DEDUCTED_KINDS,
    }
    values = parameters_in_force(rules.DIBAO_AMOUNT_PARAMETERS, MONTH)
    parameters |= {
        "r_ill": values[rules.P_SERIOUS_ILLNESS],
        "r_dis": values[rules.P_SEVERE_DISABILITY],
        "r70": values[rules.P_AGE70],
        "r60": values[rules.P_AGE60_OR_MINOR],
        "floor": values[rules.P_FLOOR_RATIO],
        "classified_floor": values[rules.P_CLASSIFIED_MODE] == rules.CLASSIFIED_FLOOR,
        "floor_share": values[rules.P_CLASSIFIED_FLOOR_SHARE],
    }
    _vacuum()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        _delete_lines(runs)  # the engine deletes the draft's lines too
        cursor.execute(SQL_BASELINE, parameters)
    elapsed = time.perf_counter() - started
    totals = _totals(PaymentLine.objects.filter(run__in=runs))
    _delete_lines(runs)
    return elapsed, totals


def naive(types: list[BenefitType], total_entitlements: int) -> tuple[float, int]:
    """What a first version would do: for each entitlement, load it, its standards and its facts with
    their own queries, compute, and save() the line (autocommit per row). Timed on a sample spread over
    the benefit types in proportion, then extrapolated to all entitlements."""
    runs = {run.benefit_type_id: run for run in _baseline_runs(types)}
    by_type = dict(
        Entitlement.objects.filter(benefit_type__in=types)
        .values("benefit_type_id")
        .annotate(n=Count("id"))
        .values_list("benefit_type_id", "n")
    )
    sample = []
    for bt in types:
        share = max(1, round(NAIVE_SAMPLE * by_type.get(bt.pk, 0) / max(1, total_entitlements)))
        sample += list(
            Entitlement.objects.filter(benefit_type=bt, status="active")
            .order_by("id")
            .values_list("id", flat=True)[:share]
        )
    calculators = {bt.pk: get_calculator(bt) for bt in types}
    started = time.perf_counter()
    for pk in sample:
        entitlement = Entitlement.objects.select_related("benefit_type", "person").get(pk=pk)
        row = Entitlement.objects.filter(pk=pk).values(*ENTITLEMENT_ROW_FIELDS).get()
        row["person_household_id"] = entitlement.person.household_id if entitlement.person else None
        calculator = calculators[entitlement.benefit_type_id]
        standards = standards_in_force_map(entitlement.benefit_type, MONTH)
        facts = calculator.load_facts([row], MONTH)
        result = calculator.compute(row, facts, standards, MONTH)
        if result is None:
            continue
        PaymentLine(
            run=runs[entitlement.benefit_type_id],
            entitlement=entitlement,
            household_id=row["household_id"] or row["person_household_id"],
            person_id=row["person_id"],
            region_code=row["region_code"],
            for_month=MONTH,
            covered_persons=result.covered_persons,
            base_amount=result.base_amount,
            increment_amount=result.increment_amount,
            other_amount=result.other_amount,
            amount=result.amount,
            change="new",
            explanation=json.loads(json.dumps(result.explanation, default=str)),
        ).save()
    elapsed = time.perf_counter() - started
    _delete_lines(runs.values())
    return elapsed, len(sample)


CELERY_URL = os.environ.get("BENCH_CELERY_URL", "redis://127.0.0.1:6379/14")
QUEUE = f"bench-recalc-{os.getpid()}"


def celery_workers(types: list[BenefitType], processes: int) -> float:
    """The five runs street by street (benefits.recalculate_run_by_street: one task per street, a chord
    summing them) on a real Celery worker with `processes` prefork processes over Redis, against this
    database: seconds from sending the five tasks to the last chord callback."""
    import signal
    import subprocess

    from celery.result import AsyncResult

    from config.celery_app import app
    from core.benefits.tasks import recalculate_run_by_street

    env = {
        **os.environ,
        # As in production: persistent database connections (CONN_MAX_AGE) and DEBUG off.
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        # DJANGO_SECRET_KEY and the personal-data keys come from run.py's ENV (the city is encrypted with them)
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "CELERY_BROKER_URL": CELERY_URL,
        "CELERY_RESULT_BACKEND": CELERY_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": QUEUE,  # the parts the start task sends go to this worker too
    }
    name = f"{QUEUE}-{processes}@localhost"
    worker = subprocess.Popen(  # noqa: S603 — fixed local command
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-c", str(processes), "-Q", QUEUE]
        + ["-n", name, "-l", "warning", "--without-gossip", "--without-mingle", "--prefetch-multiplier", "1"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    app.conf.update(
        broker_url=CELERY_URL, result_backend=CELERY_URL, task_always_eager=False, task_default_queue=QUEUE
    )
    try:
        deadline = time.monotonic() + 120
        while not app.control.ping(destination=[name], timeout=1.0):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker ({processes} processes) did not start")
        _delete_lines(_monthly_runs(types))  # into empty runs, like the other contenders
        _vacuum()
        started = time.perf_counter()
        sent = [recalculate_run_by_street.delay(bt.code, MONTH.isoformat()) for bt in types]
        finish_ids = [result.get(timeout=600)["finish_id"] for result in sent]
        for finish_id in finish_ids:
            AsyncResult(finish_id, app=app).get(timeout=1800)
        return time.perf_counter() - started
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


def main() -> None:
    types = _types()
    total = Entitlement.objects.filter(benefit_type__in=types).count()
    # The previous month, calculated by the engine (untimed): every contender compares with it, as every
    # month's run compares with the month before. It also fills the caches the same way for everyone.
    for bt in types:
        payment_run_recalculate(benefit_type=bt, month=PREVIOUS_MONTH)
    engine_times, sql_times = [], []
    for _ in range(REPEAT):
        seconds, engine_totals = engine(types)
        engine_times.append(seconds)
        seconds, sql_totals = sql_baseline(types)
        sql_times.append(seconds)
    workers1_s = celery_workers(types, 1)
    workers2_s = celery_workers(types, 2)
    naive_seconds, sample = naive(types, total)
    naive_full = naive_seconds / sample * total
    result = {
        "entitlements": total,
        "engine_s": min(engine_times),
        "sql_s": min(sql_times),
        "engine_all_s": engine_times,
        "sql_all_s": sql_times,
        "repeat": REPEAT,
        "naive_sample": sample,
        "naive_sample_s": naive_seconds,
        "naive_extrapolated_s": naive_full,
        "engine_lines": engine_totals,
        "sql_lines": sql_totals,
        "totals_match": engine_totals == sql_totals,
        "workers1_s": workers1_s,
        "workers2_s": workers2_s,
    }
    print(json.dumps(result, default=lambda v: str(v) if isinstance(v, Decimal) else v))


if __name__ == "__main__":
    main()
