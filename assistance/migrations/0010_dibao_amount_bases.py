"""低保 amounts fixed by decision (assistance.bases): every 低保 entitlement granted before bases existed gets
one, from the facts recorded at the time of the upgrade (read on the current month, or on its last month
for an ended one), effective from its first month — so the next runs pay what the last run computed from
those facts, and later income or membership edits no longer move the amount without a review.

It reads the registry through assistance.bases (the current code), which is acceptable for a one-off data
step on databases that hold entitlements; a fresh database has none."""

from django.db import migrations
from django.utils import timezone


def freeze(apps, schema_editor):
    Entitlement = apps.get_model("benefits", "Entitlement")
    missing = Entitlement.objects.filter(benefit_type__code="dibao", household__isnull=False)
    if not missing.exists():
        return
    from assistance import bases

    bases.freeze_missing(Entitlement, missing, timezone.localdate().replace(day=1))


class Migration(migrations.Migration):
    dependencies = [
        ("assistance", "0009_asset_limit_parameters"),
        ("benefits", "0008_run_calc_state"),
        ("registry", "0006_id_number_hash_constraint"),
    ]

    operations = [migrations.RunPython(freeze, migrations.RunPython.noop)]
