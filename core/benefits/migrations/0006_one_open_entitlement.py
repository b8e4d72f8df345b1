"""One open-ended entitlement per benefit type and beneficiary (the person of a person's entitlement, else
the household), active or suspended: two such entitlements were both paid every month (issue 10).

Duplicates already in the database cannot be resolved here — which of the two grants stands is a decision
for the section — so the migration stops and lists them; end the wrong one (entitlement_end) and migrate
again."""

from django.db import migrations, models
from django.db.models import Count

OPEN = {"end_month__isnull": True, "status__in": ["active", "suspended"]}


def refuse_duplicates(apps, schema_editor):
    Entitlement = apps.get_model("benefits", "Entitlement")
    duplicates = [
        *Entitlement.objects.filter(person__isnull=False, **OPEN)
        .values("benefit_type__code", "person_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by(),
        *Entitlement.objects.filter(person__isnull=True, **OPEN)
        .values("benefit_type__code", "household_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by(),
    ]
    if duplicates:
        listed = "; ".join(
            f"{d['benefit_type__code']} "
            + (f"person {d['person_id']}" if "person_id" in d else f"household {d['household_id']}")
            + f" ({d['n']})"
            for d in duplicates[:50]
        )
        raise RuntimeError(
            f"{len(duplicates)} beneficiaries hold more than one open entitlement of the same benefit type "
            f"(paid twice every month); end the wrong ones, then migrate again: {listed}"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("benefits", "0005_benefittype_section"),
        ("registry", "0003_household_number_prefix_index"),
        ("workflow", "0004_transitionlog_immutable"),
    ]

    operations = [
        migrations.RunPython(refuse_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="entitlement",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("end_month__isnull", True), ("person__isnull", False), ("status__in", ["active", "suspended"])
                ),
                fields=("benefit_type", "person"),
                name="one_open_entitlement_per_person",
                violation_error_message="该人员已在享受该项待遇，不能重复认定",
            ),
        ),
        migrations.AddConstraint(
            model_name="entitlement",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("end_month__isnull", True), ("person__isnull", True), ("status__in", ["active", "suspended"])
                ),
                fields=("benefit_type", "household"),
                name="one_open_entitlement_per_household",
                violation_error_message="该家庭已在享受该项待遇，不能重复认定",
            ),
        ),
    ]
