"""Seed the visit intervals (months, per programme and risk level) and the monthly coverage targets of the
programmes the bureau apps declare, with the demo values (DOMAIN.md 养老 探访关爱: at least monthly, 100%;
儿童: quarterly). Rows are looked up by (key, effective_from), so an edited row is never overwritten.
The programme codes are those of eldercare/visits.py, assistance/visits.py and children/visits.py."""

import datetime
from decimal import Decimal

from django.db import migrations

FROM = datetime.date(2022, 1, 1)
EVERY = {
    # code: (title, 低, 中, 高) — months; 0.5 = twice a month
    "elder_special": ("特殊困难老年人探访关爱", Decimal("1"), Decimal("1"), Decimal("0.5")),
    "assistance_key": ("分散供养特困及重残重病低保对象探访", Decimal("1"), Decimal("1"), Decimal("0.5")),
    "child_difficult": ("困境儿童和留守儿童探访", Decimal("3"), Decimal("3"), Decimal("1")),
}
RISKS = (("low", "低"), ("medium", "中"), ("high", "高"))
SOURCE = {
    "elder_special": "民政部等10部门《关于开展特殊困难老年人探访关爱服务的指导意见》（2022）：至少每月探访一次",
    "assistance_key": "demo: 分散供养特困人员及重残重病低保对象每月探访",
    "child_difficult": "demo: 困境儿童、留守儿童每季度入户走访",
}


def seed(apps, schema_editor):
    Parameter = apps.get_model("benefits", "Parameter")
    for code, (title, *months) in EVERY.items():
        for (risk, risk_label), value in zip(RISKS, months, strict=True):
            Parameter.objects.get_or_create(
                key=f"visits.interval.{code}.{risk}",
                effective_from=FROM,
                defaults={
                    "name": f"{title}：{risk_label}风险探访间隔（月，0.5 = 半个月）",
                    "value": value,
                    "source": SOURCE[code],
                },
            )
        Parameter.objects.get_or_create(
            key=f"visits.target.{code}",
            effective_from=FROM,
            defaults={"name": f"{title}：月度探访覆盖率目标（1 = 100%）", "value": Decimal("1"), "source": SOURCE[code]},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("visits", "0001_initial"),
        ("benefits", "0008_run_calc_state"),
    ]

    # Reversing keeps the rows (they may have been edited).
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
