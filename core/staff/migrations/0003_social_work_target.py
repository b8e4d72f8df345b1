"""The district's 十四五 target for 社会工作专业人才 (seed 004 table, item 7: 0.1万人 by 2025) as a dated (local)
parameter; the dashboard's 队伍建设 card shows it beside the count. Editable in the admin."""

import datetime
from decimal import Decimal

from django.db import migrations

KEY = "staff_social_work_target"


def seed(apps, schema_editor):
    Parameter = apps.get_model("benefits", "Parameter")
    Parameter.objects.get_or_create(
        key=KEY,
        effective_from=datetime.date(2021, 1, 1),
        defaults={
            "name": "社会工作专业人才总量目标（人）",
            "value": Decimal("1000"),
            "source": "demo: 东昌区民政事业发展“十四五”规划（seed 004），2025年目标0.1万人",
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0002_sync_roles"),
        ("benefits", "0001_initial"),
    ]

    # Reversing keeps the row (it may have been edited in the admin).
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
