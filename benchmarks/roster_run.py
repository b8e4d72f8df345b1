"""The 150,000-line run the payment roster is measured on (issue 14 item 5), built once in the bench database.

The city's largest monthly run (低保, ~90,000 households) is short of the size DESIGN.md asks for, and
高龄津贴 has no entitlements in the generated city yet. So the bench assembles a one-off run of the 低保
type — a roster of several runs — from the lines of the latest monthly run of each of the five 社会救助
types (低保, 特困 basic and care, 残疾人两项补贴: ~152,000 lines at 1,000,000 people): their
entitlements, households or persons, region codes, covered persons, amounts split into base / increment /
other, line types and change flags, copied as they are, so the roster reads real rows with every join
it makes in production (person-level lines take the person's household account, 集中供养 lines their
institution's). A seeded hash of the line id picks exactly `ROSTER_LINES` of them (all, when the city is
smaller).

Dated 2025-11, a month outside the measured year (see MONTH). Set-based (one INSERT … SELECT) and
idempotent: the run is found by its month and title, reused when it
already holds the lines wanted, rebuilt otherwise. It stays a draft: the engine reads locked runs only,
so it never counts these lines as paid. The caller vacuums the line table afterwards, as autovacuum
would have before a bureau exports."""

from __future__ import annotations

import datetime
import os

from django.db import connection, transaction

from core.benefits.models import BenefitType, PaymentRun

ROSTER_LINES = int(os.environ.get("BENCH_ROSTER_LINES", "150000"))
SEED = 14
# A month before the steady state's year, which no page or report of the measured month reads: in the
# measured month (2026-12) this one-off 低保 run was read by the dashboard's 本月支出 (its lines, having no
# engine summary) and counted twice the city's spending — a bench artefact in the web part's figures.
MONTH = datetime.date(2025, 11, 1)
_FORMER_MONTHS = [datetime.date(2026, 12, 1)]
TITLE = "基准测试：全市五类社会救助合并发放"
SOURCE_TYPES = ["dibao", "tekun_basic", "tekun_care", "disability_living", "disability_care"]


def source_runs() -> list[int]:
    """The latest monthly run of each source type that has lines (locked ones first)."""
    runs = []
    for code in SOURCE_TYPES:
        run = (
            PaymentRun.objects.filter(benefit_type__code=code, kind=PaymentRun.Kind.MONTHLY, line_count__gt=0)
            .order_by("-status", "-month")  # "locked" sorts after "draft": locked first
            .values_list("pk", flat=True)
            .first()
        )
        if run is not None:
            runs.append(run)
    return runs


def roster_run(size: int = ROSTER_LINES) -> PaymentRun:
    """The one-off run of `size` lines (fewer when the city has fewer), created or rebuilt as needed."""
    dibao = BenefitType.objects.get(code="dibao")
    sources = source_runs()
    with transaction.atomic():
        with connection.cursor() as cursor:  # the run as earlier benches left it, in the measured month
            cursor.execute(
                "DELETE FROM benefits_paymentline WHERE run_id IN (SELECT id FROM benefits_paymentrun"
                " WHERE title = %s AND month = ANY(%s))",
                [TITLE, _FORMER_MONTHS],
            )
        PaymentRun.objects.filter(title=TITLE, month__in=_FORMER_MONTHS).delete()
        run, _ = PaymentRun.objects.select_for_update().get_or_create(
            benefit_type=dibao, month=MONTH, kind=PaymentRun.Kind.ONE_OFF, title=TITLE
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM benefits_paymentline WHERE run_id = ANY(%s)", [sources])
            wanted = min(size, cursor.fetchone()[0])
            cursor.execute("SELECT count(*) FROM benefits_paymentline WHERE run_id = %s", [run.pk])
            if cursor.fetchone()[0] == wanted and run.line_count == wanted:
                return run
            cursor.execute("DELETE FROM benefits_paymentline WHERE run_id = %s", [run.pk])
            cursor.execute(
                """
                INSERT INTO benefits_paymentline (run_id, entitlement_id, household_id, person_id,
                    region_code, line_type, for_month, covered_persons, base_amount, increment_amount,
                    other_amount, amount, change, explanation)
                SELECT %s, entitlement_id, household_id, person_id, region_code, line_type, for_month,
                    covered_persons, base_amount, increment_amount, other_amount, amount, change, '{}'::jsonb
                FROM (
                    SELECT id, run_id, entitlement_id, household_id, person_id, region_code, line_type,
                        for_month, covered_persons, base_amount, increment_amount, other_amount, amount, change
                    FROM benefits_paymentline WHERE run_id = ANY(%s)
                    ORDER BY md5(%s || ':' || id::text) LIMIT %s
                ) AS chosen
                -- written in the order the engine writes a run (by entitlement, each type after the
                -- other), so that the lines lie on disk as a real run's do
                ORDER BY array_position(%s::bigint[], run_id), entitlement_id
                """,
                [run.pk, sources, str(SEED), wanted, sources],
            )
            cursor.execute(
                "UPDATE benefits_paymentrun SET line_count = s.n, total_amount = s.total "
                "FROM (SELECT count(*) AS n, coalesce(sum(amount), 0) AS total FROM benefits_paymentline "
                "WHERE run_id = %s) AS s WHERE id = %s",
                [run.pk, run.pk],
            )
    run.refresh_from_db()
    return run
