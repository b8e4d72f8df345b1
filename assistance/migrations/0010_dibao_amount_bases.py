"""低保 amounts fixed by decision (assistance.bases): every 低保 entitlement granted before bases existed gets
one, from the facts recorded at the time of the upgrade (read on the current month, or on its last month
for an ended one), effective from its first month — so the next runs pay what the last run computed from
those facts, and later income or membership edits no longer move the amount without a review.

It reads the registry through assistance.bases (the current code), which is acceptable for a one-off data
step on databases that hold entitlements; a fresh database has none."""

from django.db import migrations
from django.utils import timezone

CHUNK = 2000


def freeze(apps, schema_editor):
    Entitlement = apps.get_model("benefits", "Entitlement")
    rows = list(
        Entitlement.objects.filter(benefit_type__code="dibao", household__isnull=False)
        .order_by("pk")
        .values("pk", "household_id", "start_month", "end_month", "params")
    )
    rows = [r for r in rows if not (r["params"] or {}).get("bases")]
    if not rows:
        return
    from assistance import bases

    today = timezone.localdate().replace(day=1)
    for i in range(0, len(rows), CHUNK):
        by_date = {}
        for row in rows[i : i + CHUNK]:
            on_date = max(row["start_month"], today)
            if row["end_month"] is not None:
                on_date = min(on_date, row["end_month"])
            by_date.setdefault(on_date, []).append(row)
        for on_date, group in by_date.items():
            units = {}
            for row in group:
                only = (row["params"] or {}).get("covered_person_ids")
                units[row["household_id"]] = [int(p) for p in only] if only else None
            computed = bases.bases_from_facts(units, on_date, label=bases.LABEL_MIGRATED)
            for row in group:
                basis = dict(computed[row["household_id"]])
                basis["from"] = row["start_month"].isoformat()
                params = dict(row["params"] or {})
                params["bases"] = [basis]
                Entitlement.objects.filter(pk=row["pk"]).update(params=params)


class Migration(migrations.Migration):
    dependencies = [
        ("assistance", "0009_asset_limit_parameters"),
        ("benefits", "0008_run_calc_state"),
        ("registry", "0006_id_number_hash_constraint"),
    ]

    operations = [migrations.RunPython(freeze, migrations.RunPython.noop)]
