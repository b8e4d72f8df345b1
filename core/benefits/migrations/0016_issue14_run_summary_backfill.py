"""The summaries of the monthly runs calculated before 0015 (issue 14): one INSERT … SELECT over their
lines, then each run marked as summarized for its current calculation. The SQL of
core/benefits/summaries.py, for every monthly run at once (a city's year: ~1.8 million lines, seconds)."""

from django.db import migrations

SUMMARIZE_ALL = """
INSERT INTO benefits_paymentrunsummary
    (run_id, region_code, area_type, lines, total, base, increment, other, adjust, one_off)
SELECT l.run_id, l.region_code, e.area_type, count(*),
       coalesce(sum(l.amount), 0),
       coalesce(sum(l.base_amount) FILTER (WHERE l.line_type = 'regular'), 0),
       coalesce(sum(l.increment_amount) FILTER (WHERE l.line_type = 'regular'), 0),
       coalesce(sum(l.other_amount) FILTER (WHERE l.line_type = 'regular'), 0),
       coalesce(sum(l.amount) FILTER (WHERE l.line_type IN ('back_pay', 'recovery')), 0),
       coalesce(sum(l.amount) FILTER (WHERE l.line_type = 'one_off'), 0)
FROM benefits_paymentline l
JOIN benefits_entitlement e ON e.id = l.entitlement_id
JOIN benefits_paymentrun r ON r.id = l.run_id
WHERE r.kind = 'monthly' AND r.calculated_at IS NOT NULL
GROUP BY l.run_id, l.region_code, e.area_type
"""
MARK = "UPDATE benefits_paymentrun SET summary_of = calculated_at WHERE kind = 'monthly' AND calculated_at IS NOT NULL"


def backfill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(SUMMARIZE_ALL)
        cursor.execute(MARK)


def forget(apps, schema_editor):
    apps.get_model("benefits", "PaymentRunSummary").objects.all().delete()
    apps.get_model("benefits", "PaymentRun").objects.update(summary_of=None)


class Migration(migrations.Migration):
    dependencies = [("benefits", "0015_issue14_run_summary")]

    operations = [migrations.RunPython(backfill, forget)]
