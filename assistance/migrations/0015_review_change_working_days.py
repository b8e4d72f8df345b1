"""review.change_working_days: the period, in working days, of a 低保 review opened on a reported change
(变化核查) or on a 委托确认抽查 found 不符合 — before, such a review was due the day it was opened and showed
as 已超期 the next morning. Dated, looked up by its natural key, never overwriting an edited row."""

import datetime
from decimal import Decimal

from django.db import migrations

START = datetime.date(2021, 7, 1)
KEY = "review.change_working_days"


def seed(apps, schema_editor):
    Parameter = apps.get_model("benefits", "Parameter")
    Parameter.objects.get_or_create(
        key=KEY,
        effective_from=START,
        defaults={
            "name": "情况变化、抽查不符合发起的低保复核办理时限（工作日）",
            "value": Decimal("15"),
            "source": "东昌区低保动态管理办法（演示数据）",
        },
    )


class Migration(migrations.Migration):
    dependencies = [("assistance", "0014_delegated_confirmation_pre_stop")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
