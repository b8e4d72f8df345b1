"""委托乡镇/街道确认 with the district's 抽查, and 拟停保告知 before a review's 停发 (issue 13 items 11, 12).

Parameters (dated, looked up by their natural keys, never overwriting an edited row):
- delegation.dibao: 1 = the street confirms 低保 itself (街道审核员 instead of the section's 科长), 0 = the
  科长 confirms. The demo district has not delegated: 0.
- delegation.sample_rate: the share of the streets' monthly approvals the district draws for its 抽查 (0.1).
- review.stop_notice_working_days: the 拟停保告知's period to respond (陈述、申辩), in working days (7).
"""

import datetime
from decimal import Decimal

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

START = datetime.date(2021, 7, 1)
SOURCE = "东昌区低保审核确认权限委托及抽查办法（演示数据）"

PARAMETERS = [
    ("delegation.dibao", "委托街道（乡镇）确认低保（1=委托，0=科长确认）", "0"),
    ("delegation.sample_rate", "委托确认低保的区级抽查比例", "0.1"),
    ("review.stop_notice_working_days", "拟停保告知的陈述申辩期（工作日）", "7"),
]


def seed(apps, schema_editor):
    Parameter = apps.get_model("benefits", "Parameter")
    for key, name, value in PARAMETERS:
        Parameter.objects.get_or_create(
            key=key, effective_from=START, defaults={"name": name, "value": Decimal(value), "source": SOURCE}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("assistance", "0013_tekun_lifecycle"),
        ("benefits", "0001_initial"),
        ("registry", "0008_region_complaint_phone"),
        ("workflow", "0005_decision_delivery"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DelegationSample",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "month",
                    models.DateField(
                        help_text="抽查该月街道确认批准的低保案件（每月1日）", verbose_name="确认月份"
                    ),
                ),
                ("region_code", models.CharField(editable=False, max_length=12, verbose_name="区划代码")),
                ("rate", models.DecimalField(decimal_places=4, max_digits=5, verbose_name="抽查比例")),
                ("seed", models.PositiveBigIntegerField(verbose_name="随机种子")),
                ("population", models.PositiveIntegerField(verbose_name="街道确认批准案件数")),
                ("drawn_at", models.DateTimeField(auto_now_add=True, verbose_name="抽取时间")),
                (
                    "drawn_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="抽取人",
                    ),
                ),
                (
                    "region",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registry.region",
                        verbose_name="区县",
                    ),
                ),
            ],
            options={
                "verbose_name": "委托确认抽查",
                "verbose_name_plural": "委托确认抽查",
                "ordering": ["-month", "region_code"],
            },
        ),
        migrations.CreateModel(
            name="DelegationCheck",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("region_code", models.CharField(editable=False, max_length=12, verbose_name="区划代码")),
                (
                    "result",
                    models.CharField(
                        blank=True,
                        choices=[("conforming", "符合"), ("nonconforming", "不符合")],
                        max_length=16,
                        verbose_name="抽查结果",
                    ),
                ),
                ("note", models.TextField(blank=True, verbose_name="抽查意见")),
                ("checked_at", models.DateTimeField(blank=True, null=True, verbose_name="抽查时间")),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="workflow.case",
                        verbose_name="案件",
                    ),
                ),
                (
                    "checked_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="抽查人",
                    ),
                ),
                (
                    "confirmed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="街道确认人",
                    ),
                ),
                (
                    "review",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="assistance.dibaoreview",
                        verbose_name="发起的复核",
                    ),
                ),
                (
                    "sample",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="checks",
                        to="assistance.delegationsample",
                        verbose_name="抽查",
                    ),
                ),
            ],
            options={
                "verbose_name": "委托确认抽查案件",
                "verbose_name_plural": "委托确认抽查案件",
                "ordering": ["sample", "case_id"],
            },
        ),
        migrations.CreateModel(
            name="StopPreNotice",
            fields=[
                (
                    "review",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="stop_prenotice",
                        serialize=False,
                        to="assistance.dibaoreview",
                        verbose_name="复核",
                    ),
                ),
                ("region_code", models.CharField(editable=False, max_length=12, verbose_name="区划代码")),
                ("issued_on", models.DateField(verbose_name="告知日期")),
                ("deadline", models.DateField(verbose_name="陈述申辩期限")),
                ("working_days", models.PositiveSmallIntegerField(verbose_name="陈述申辩期（工作日）")),
                ("reasons", models.TextField(verbose_name="拟停保理由")),
                (
                    "response",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "未提出意见"),
                            ("waived", "明确表示无异议"),
                            ("statement", "提出陈述申辩"),
                        ],
                        max_length=10,
                        verbose_name="家庭意见",
                    ),
                ),
                ("statement", models.TextField(blank=True, verbose_name="陈述申辩内容")),
                ("consideration", models.TextField(blank=True, verbose_name="处理意见")),
                ("responded_on", models.DateField(blank=True, null=True, verbose_name="意见登记日期")),
                (
                    "issued_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="告知人",
                    ),
                ),
                (
                    "response_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="意见登记人",
                    ),
                ),
            ],
            options={"verbose_name": "拟停保告知", "verbose_name_plural": "拟停保告知"},
        ),
        migrations.AddIndex(
            model_name="delegationsample",
            index=models.Index(
                fields=["region_code"], name="deleg_sample_region_idx", opclasses=["varchar_pattern_ops"]
            ),
        ),
        migrations.AddConstraint(
            model_name="delegationsample",
            constraint=models.UniqueConstraint(
                fields=("month", "region_code"), name="one_delegation_sample_per_month"
            ),
        ),
        migrations.AddConstraint(
            model_name="delegationsample",
            constraint=models.CheckConstraint(
                condition=models.Q(("rate__gt", 0), ("rate__lte", 1)), name="delegation_sample_rate_range"
            ),
        ),
        migrations.AddIndex(
            model_name="delegationcheck",
            index=models.Index(
                fields=["region_code"], name="deleg_check_region_idx", opclasses=["varchar_pattern_ops"]
            ),
        ),
        migrations.AddConstraint(
            model_name="delegationcheck",
            constraint=models.UniqueConstraint(fields=("sample", "case"), name="one_check_per_sampled_case"),
        ),
        migrations.AddConstraint(
            model_name="delegationcheck",
            constraint=models.CheckConstraint(
                condition=models.Q(("note", ""), ("result", "nonconforming"), _negated=True),
                name="delegation_nonconforming_has_note",
            ),
        ),
        migrations.AddConstraint(
            model_name="stopprenotice",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("response", "statement"), ("statement", ""), _negated=True),
                    models.Q(("consideration", ""), ("response", "statement"), _negated=True),
                ),
                name="prenotice_statement_considered",
            ),
        ),
        migrations.AddConstraint(
            model_name="stopprenotice",
            constraint=models.CheckConstraint(
                condition=models.Q(("deadline__gt", models.F("issued_on"))), name="prenotice_period"
            ),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
