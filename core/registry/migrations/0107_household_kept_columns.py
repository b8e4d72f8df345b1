"""The living members and the head's name of each household, kept by the database: the columns, filled in,
the triggers that keep them (core/registry/household_kept.py says how)."""

from django.db import migrations, models

from core.registry import household_kept


def forwards(apps, schema_editor):
    household_kept.create(schema_editor)


def backwards(apps, schema_editor):
    household_kept.drop(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("registry", "0106_person_updated_at_index")]

    operations = [
        migrations.AddField(
            model_name="household",
            name="living_members",
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name="在册人数"),
        ),
        migrations.AddField(
            model_name="household",
            name="head_name",
            field=models.CharField(default="", editable=False, max_length=50, verbose_name="户主姓名"),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveIndex(model_name="household", name="household_list_cover_idx"),
        migrations.AddIndex(
            model_name="household",
            index=models.Index(
                fields=["region_code"],
                include=("id", "is_active", "number", "created_at", "area_type", "living_members", "head_name"),
                name="household_list_cover_idx",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
    ]
