"""The living members of each household, kept by the database: the column, the counts filled in, the
triggers that keep them (core/registry/living_members.py says how)."""

from django.db import migrations, models

from core.registry import living_members


def forwards(apps, schema_editor):
    living_members.create(schema_editor)


def backwards(apps, schema_editor):
    living_members.drop(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("registry", "0106_person_updated_at_index")]

    operations = [
        migrations.AddField(
            model_name="household",
            name="living_members",
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name="在册人数"),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveIndex(model_name="household", name="household_list_cover_idx"),
        migrations.AddIndex(
            model_name="household",
            index=models.Index(
                fields=["region_code"],
                include=("id", "is_active", "number", "created_at", "area_type", "living_members"),
                name="household_list_cover_idx",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
    ]
