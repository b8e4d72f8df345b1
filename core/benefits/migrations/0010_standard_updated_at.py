"""Re-checking locked months only for what changed since they were calculated (issue 14): when standards,
parameters and benefit types last changed, the first day a standard's change may move, and when a run's
calculation began. Existing rows get the migration's time (every locked run before it is re-checked in
full: its calc_started_at is empty) and a standard's changed_from its effective_from."""

import django.utils.timezone
from django.db import migrations, models


def changed_from_effective_from(apps, schema_editor):
    Standard = apps.get_model("benefits", "Standard")
    Standard.objects.update(changed_from=models.F("effective_from"))


class Migration(migrations.Migration):
    dependencies = [
        ("benefits", "0009_change_check"),
    ]

    operations = [
        migrations.AddField(
            model_name="benefittype",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now, verbose_name="更新时间"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="standard",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now, verbose_name="更新时间"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="standard",
            name="changed_from",
            field=models.DateField(blank=True, editable=False, null=True, verbose_name="变更影响起始日期"),
        ),
        migrations.AddField(
            model_name="parameter",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now, verbose_name="更新时间"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="paymentrun",
            name="calc_started_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="计算开始时间"),
        ),
        migrations.RunPython(changed_from_effective_from, migrations.RunPython.noop),
    ]
