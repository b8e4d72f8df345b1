"""财产 limits of 低保, 低保边缘 and 特困 (issue 13 item 3; DOMAIN.md "财产 (assets) (local)", demo values):

- assets.financial_months: cash, deposits and securities per capita ≤ this many months of the monthly
  低保 standard (24);
- assets.extra_homes: homes allowed beyond the household's residence (0: no second home);
- assets.vehicle_value_limit: a motor vehicle is allowed only up to this value (50,000 元), or whatever its
  value when it is needed for a member's disability;
- assets.business_capital_limit: the registered capital of a registered business the household holds
  (100,000 元 — DOMAIN.md leaves the figure local; this is the demo's choice).

Read on the date of the assessment by assistance.rules.asset_limits_exceeded. Rows are looked up by their
natural keys and never overwrite an edited row.
"""

import datetime
from decimal import Decimal

from django.db import migrations

START = datetime.date(2021, 7, 1)
SOURCE = "东昌区最低生活保障家庭财产状况认定标准（演示数据）"

PARAMETERS = [
    ("assets.financial_months", "家庭财产：人均金融资产上限（低保月标准的月数）", "24"),
    ("assets.extra_homes", "家庭财产：自住房以外可拥有的住房套数", "0"),
    ("assets.vehicle_value_limit", "家庭财产：机动车价值上限（元，残疾人代步车辆除外）", "50000"),
    ("assets.business_capital_limit", "家庭财产：登记注册经营实体的注册资本上限（元）", "100000"),
]


def seed(apps, schema_editor):
    Parameter = apps.get_model("benefits", "Parameter")
    for key, name, value in PARAMETERS:
        Parameter.objects.get_or_create(
            key=key, effective_from=START, defaults={"name": name, "value": Decimal(value), "source": SOURCE}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("assistance", "0008_classified_parameters_temp_amounts"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
