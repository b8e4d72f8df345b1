"""The payment line's household and person keep their foreign keys but lose their single-column indexes
(issue 14: every index costs each line the COPY writes; nothing looks lines up by household or person).

Only the indexes are dropped: Django's AlterField would drop and re-add both foreign-key constraints,
checking every line of every run again under a table lock — minutes on a production database."""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "household": "benefits_paymentline_household_id_6de5c642",
    "person": "benefits_paymentline_person_id_b274c3f6",
}


def _field(to: str, verbose_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        blank=True,
        db_index=False,
        null=True,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to=to,
        verbose_name=verbose_name,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("benefits", "0018_issue14_entitlement_type_region"),
        ("registry", "0107_household_kept_columns"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="paymentline", name="household", field=_field("registry.household", "家庭")
                ),
                migrations.AlterField(
                    model_name="paymentline", name="person", field=_field("registry.person", "人员")
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "benefits_paymentline" ("{field}_id")',
                )
                for field, name in INDEXES.items()
            ],
        ),
    ]
