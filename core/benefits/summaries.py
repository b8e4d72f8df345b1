"""Per-run summaries of the payment lines (PaymentRunSummary): what a run paid per community and 城乡, so
that the spending figures of any scope (the dashboard's 本月支出, the statistics' 支出) add up a few hundred
rows instead of reading every line of the month — ~150,000 lines for a city, 0.4–3 s uncached (issue 14).

`summarize_run` is called by the engine when it stamps a run's totals (`services._stamp_totals`: the
one-transaction recalculation and the last step of the street-by-street one), in the same transaction as
the lines. The summary is valid while `run.summary_of == run.calculated_at`: a recalculation street by
street clears `calculated_at` when it starts, a later calculation moves it, and a run written by another
path (the holiday and 临时救助 one-off runs) never has a summary — readers then read that run's lines
(`assistance.reports.spending_figures`). A locked run never changes, nor does its summary."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import connection

from .models import Entitlement, PaymentLine, PaymentRun, PaymentRunSummary

LineType = PaymentLine.LineType

_SUMMARIZE = f"""
INSERT INTO {PaymentRunSummary._meta.db_table}
    (run_id, region_code, area_type, lines, total, base, increment, other, adjust, one_off)
SELECT l.run_id, l.region_code, e.area_type, count(*),
       coalesce(sum(l.amount), 0),
       coalesce(sum(l.base_amount) FILTER (WHERE l.line_type = %(regular)s), 0),
       coalesce(sum(l.increment_amount) FILTER (WHERE l.line_type = %(regular)s), 0),
       coalesce(sum(l.other_amount) FILTER (WHERE l.line_type = %(regular)s), 0),
       coalesce(sum(l.amount) FILTER (WHERE l.line_type IN (%(back_pay)s, %(recovery)s)), 0),
       coalesce(sum(l.amount) FILTER (WHERE l.line_type = %(one_off)s), 0)
FROM {PaymentLine._meta.db_table} l
JOIN {PaymentLine._meta.get_field("entitlement").related_model._meta.db_table} e ON e.id = l.entitlement_id
WHERE l.run_id = %(run)s {{condition}}
GROUP BY l.run_id, l.region_code, e.area_type
"""  # noqa: S608 — table names from the models, values as parameters


def summarize_run(run: PaymentRun) -> None:
    """(Re)write the run's summary from its lines. The caller marks the run as summarized for its current
    calculation (`summary_of = calculated_at`, saved with the totals by `services._stamp_totals`) in the
    same transaction. One statement on PostgreSQL (the old rows deleted in a CTE), two elsewhere."""
    params = {
        "run": run.pk,
        "regular": LineType.REGULAR,
        "back_pay": LineType.BACK_PAY,
        "recovery": LineType.RECOVERY,
        "one_off": LineType.ONE_OFF,
    }
    delete = f"DELETE FROM {PaymentRunSummary._meta.db_table} WHERE run_id = %(run)s"  # noqa: S608
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The old rows deleted first: a data-modifying CTE the query does not read would run after it
            # (and the new rows meet the old ones' unique keys); read once (an InitPlan) before the first
            # line is summed, it runs to completion first.
            first = "AND (SELECT count(*) FROM gone) >= 0"
            cursor.execute(
                f"WITH gone AS ({delete} RETURNING 1) " + _SUMMARIZE.format(condition=first), params
            )
        else:
            cursor.execute(delete, params)
            cursor.execute(_SUMMARIZE.format(condition=""), params)


class SummarySums:
    """The sums `_SUMMARIZE` makes, added up line by line while a one-transaction run writes its lines
    (services._Totals), so that stamping the run writes a few hundred rows instead of aggregating its
    lines again (2.7 s for a city's 低保 run of 355,000 lines). `area_of`: {entitlement id: 城乡} of the
    run's benefit type (every entitlement a line may name). Tested equal to summarize_run."""

    def __init__(self, area_of: Mapping[int, str]):
        self.area_of = area_of
        self.groups: dict[tuple[str, str], list[Any]] = {}

    def add(self, line: Mapping[str, Any]) -> None:
        area = self.area_of.get(line["entitlement_id"])
        if area is None:  # an entitlement added after area_of was read (another transaction): ask once
            area = self.area_of[line["entitlement_id"]] = (
                Entitlement.objects.filter(pk=line["entitlement_id"])
                .values_list("area_type", flat=True)
                .first()
                or ""
            )
        key = (line["region_code"], area)
        sums = self.groups.get(key)
        if sums is None:
            zero = Decimal(0)
            sums = self.groups[key] = [0, zero, zero, zero, zero, zero, zero]
        amount, line_type = line["amount"], line["line_type"]
        sums[0] += 1
        sums[1] += amount
        if line_type == LineType.REGULAR:
            sums[2] += line["base_amount"]
            sums[3] += line["increment_amount"]
            sums[4] += line["other_amount"]
        elif line_type in (LineType.BACK_PAY, LineType.RECOVERY):
            sums[5] += amount
        elif line_type == LineType.ONE_OFF:
            sums[6] += amount

    def as_json(self) -> list[list[Any]]:
        """The sums as JSON (a Celery result): [region_code, 城乡, lines, amounts as strings …] per group."""
        return [[region, area, sums[0], *map(str, sums[1:])] for (region, area), sums in self.groups.items()]

    def merge_json(self, rows: list[list[Any]]) -> None:
        """Add another part's `as_json` (parts may share a community: a stopped line keeps the community
        it was paid in, which may lie in another part's street)."""
        for region, area, lines, *amounts in rows:
            sums = self.groups.get((region, area))
            if sums is None:
                zero = Decimal(0)
                sums = self.groups[(region, area)] = [0, zero, zero, zero, zero, zero, zero]
            sums[0] += lines
            for i, amount in enumerate(amounts, start=1):
                sums[i] += Decimal(amount)

    def write(self, run: PaymentRun) -> None:
        """Replace the run's summary by these sums (the caller marks it, as for summarize_run)."""
        PaymentRunSummary.objects.filter(run=run).delete()
        PaymentRunSummary.objects.bulk_create(
            PaymentRunSummary(
                run=run,
                region_code=region_code,
                area_type=area_type,
                lines=lines,
                total=total,
                base=base,
                increment=increment,
                other=other,
                adjust=adjust,
                one_off=one_off,
            )
            for (region_code, area_type), (lines, total, base, increment, other, adjust, one_off) in sorted(
                self.groups.items()
            )
        )
