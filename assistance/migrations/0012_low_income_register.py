"""低保边缘 / 刚性支出困难家庭 recognised by decision (issue 13 item 8): the register, the 刚性支出 declared on
the application, and their parameters (DOMAIN.md "低保边缘家庭", "刚性支出困难家庭", demo values):

- edge.valid_months: a 低保边缘 recognition is valid 12 months from the decision (the demo's choice; local);
- rigid.valid_months: a 刚性支出 recognition 12 months (DOMAIN.md: at most 12);
- rigid.disposable_income_last_year.urban / .rural: last year's local per-capita disposable income (元/年),
  one row per year from 1 January (the statistics bureau's figure of the year before; demo values).

Rows are looked up by their natural keys and never overwrite an edited row.
"""

import datetime
from decimal import Decimal

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SOURCE = "东昌区低收入人口认定办法（演示数据）"

PARAMETERS = [
    ("edge.valid_months", "低保边缘家庭认定有效期（月）", "12", datetime.date(2021, 7, 1)),
    ("rigid.valid_months", "刚性支出困难家庭认定有效期（月，不超过12个月）", "12", datetime.date(2024, 1, 1)),
]
# (year the figure is used in, urban, rural): the figure of the year before, in force from 1 January.
DISPOSABLE_INCOME = [(2024, "42500", "19800"), (2025, "44300", "21000"), (2026, "46000", "22200")]


def seed(apps, schema_editor):
    Parameter = apps.get_model("benefits", "Parameter")
    rows = list(PARAMETERS)
    for year, urban, rural in DISPOSABLE_INCOME:
        start = datetime.date(year, 1, 1)
        rows.append(
            (
                "rigid.disposable_income_last_year.urban",
                f"上年度城镇居民人均可支配收入（元/年，{year - 1}年）",
                urban,
                start,
            )
        )
        rows.append(
            (
                "rigid.disposable_income_last_year.rural",
                f"上年度农村居民人均可支配收入（元/年，{year - 1}年）",
                rural,
                start,
            )
        )
    for key, name, value, start in rows:
        Parameter.objects.get_or_create(
            key=key, effective_from=start, defaults={"name": name, "value": Decimal(value), "source": SOURCE}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("assistance", "0011_temp_case_nonresident"),
        ("registry", "0008_region_complaint_phone"),
        ("workflow", "0005_decision_delivery"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="assistanceapplication",
            name="rigid_spending",
            field=models.JSONField(blank=True, default=dict, verbose_name="近12个月刚性支出"),
        ),
        migrations.CreateModel(
            name="LowIncomeRecognition",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "category",
                    models.CharField(
                        choices=[("edge", "低保边缘家庭"), ("rigid", "刚性支出困难家庭")],
                        max_length=8,
                        verbose_name="认定类别",
                    ),
                ),
                ("region_code", models.CharField(editable=False, max_length=12, verbose_name="区划代码")),
                ("valid_from", models.DateField(verbose_name="认定生效日期")),
                ("valid_until", models.DateField(verbose_name="有效期至")),
                (
                    "status",
                    models.CharField(
                        choices=[("active", "有效"), ("renewed", "已续期"), ("ended", "已终止")],
                        default="active",
                        max_length=8,
                        verbose_name="状态",
                    ),
                ),
                ("basis", models.TextField(blank=True, verbose_name="认定依据")),
                ("ended_on", models.DateField(blank=True, null=True, verbose_name="终止日期")),
                ("end_reason", models.CharField(blank=True, max_length=200, verbose_name="终止原因")),
                ("decided_at", models.DateTimeField(auto_now_add=True, verbose_name="确认时间")),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="low_income_recognitions",
                        to="workflow.case",
                        verbose_name="认定案件",
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="确认人",
                    ),
                ),
                (
                    "household",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="low_income_recognitions",
                        to="registry.household",
                        verbose_name="家庭",
                    ),
                ),
                (
                    "renews",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="renewals",
                        to="assistance.lowincomerecognition",
                        verbose_name="续期前的认定",
                    ),
                ),
            ],
            options={
                "verbose_name": "低收入家庭认定",
                "verbose_name_plural": "低收入家庭认定",
                "ordering": ["valid_until", "id"],
                "indexes": [
                    models.Index(
                        fields=["region_code"],
                        name="low_income_region_prefix_idx",
                        opclasses=["varchar_pattern_ops"],
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "active")),
                        fields=("household", "category"),
                        name="one_active_low_income_recognition",
                        violation_error_message="该家庭已有有效的同类认定",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("valid_until__gte", models.F("valid_from"))),
                        name="low_income_recognition_period",
                    ),
                ],
            },
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
