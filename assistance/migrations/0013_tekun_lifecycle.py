"""特困 lifecycle (issue 13 item 9): the facility of 集中供养, the to-dos after approval (re-assessment,
yearly review, minors' re-judgement), terminations by decision and care agreements of 分散供养.

Seeds the dated parameters the lifecycle reads and the facility kind 特困人员供养服务设施（敬老院）. Rows are
looked up by their natural keys and never overwrite an edited row."""

import datetime
from decimal import Decimal

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

START = datetime.date(2021, 7, 1)
RULE = "民发〔2021〕43号《特困人员认定办法》"

PARAMETERS = [
    (
        "tekun.reassess_working_days",
        "特困人员：生活自理能力发生变化后重新评估时限（工作日）",
        "10",
        RULE,
    ),
    ("tekun.minor_until_age", "特困人员：未成年人享受救助供养至（周岁）", "18", RULE + "（地方规定）"),
    (
        "tekun.school_continue_months",
        "特困人员：年满18周岁仍在校就读的，每次凭就读证明继续供养的最长月数",
        "12",
        "demo: 地方规定（在校就读期间继续供养，按学年重新认定）",
    ),
    ("tekun.review_months", "特困人员：定期复核间隔（月）", "12", "demo: 每年复核一次"),
    ("tekun.review_lead_days", "特困人员：年度复核提前列入待办的天数", "30", "demo"),
    (
        "tekun.rejudge_working_days",
        "特困人员：未成年人年满16/18周岁后重新认定时限（工作日）",
        "10",
        "demo",
    ),
]

FACILITY_KIND = ("tekun_institution", "特困人员供养服务设施（敬老院）", "assistance", True, 51)


def seed(apps, schema_editor):
    Parameter = apps.get_model("benefits", "Parameter")
    for key, name, value, source in PARAMETERS:
        Parameter.objects.get_or_create(
            key=key, effective_from=START, defaults={"name": name, "value": Decimal(value), "source": source}
        )
    FacilityKind = apps.get_model("facilities", "FacilityKind")
    code, name, section, has_beds, order = FACILITY_KIND
    FacilityKind.objects.get_or_create(
        code=code, defaults={"name": name, "section_code": section, "has_beds": has_beds, "sort_order": order}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("assistance", "0012_low_income_register"),
        ("benefits", "0003_run_audit_line_unique"),
        ("facilities", "0003_sync_roles"),
        ("registry", "0008_region_complaint_phone"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="tekunapplication",
            name="facility",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="facilities.facility",
                verbose_name="供养机构（服务设施）",
            ),
        ),
        migrations.CreateModel(
            name="TekunTask",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("region_code", models.CharField(editable=False, max_length=12, verbose_name="区划代码")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("reassessment", "生活自理能力重新评估"),
                            ("yearly_review", "年度复核"),
                            ("minor_rejudgement", "未成年人重新认定"),
                        ],
                        max_length=20,
                        verbose_name="事项",
                    ),
                ),
                ("reason", models.CharField(max_length=200, verbose_name="发起原因")),
                ("opened_on", models.DateField(verbose_name="发起日期")),
                ("due_on", models.DateField(verbose_name="办理时限")),
                ("is_open", models.BooleanField(default=True, verbose_name="办理中")),
                (
                    "outcome",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("tier_kept", "评估后照料护理档次不变"),
                            ("tier_changed", "评估后调整照料护理档次"),
                            ("continued", "继续救助供养"),
                            ("continued_school", "在校就读，继续救助供养"),
                            ("terminated", "终止救助供养"),
                        ],
                        max_length=20,
                        verbose_name="办理结果",
                    ),
                ),
                ("finding", models.TextField(blank=True, verbose_name="办理情况")),
                ("data", models.JSONField(blank=True, default=dict, verbose_name="办理数据")),
                ("closed_at", models.DateTimeField(blank=True, null=True, verbose_name="办结时间")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                (
                    "application",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tasks",
                        to="assistance.tekunapplication",
                        verbose_name="特困人员认定",
                    ),
                ),
                (
                    "closed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="办结人",
                    ),
                ),
                (
                    "opened_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="发起人",
                    ),
                ),
                (
                    "person",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registry.person",
                        verbose_name="特困人员",
                    ),
                ),
            ],
            options={
                "verbose_name": "特困人员待办事项",
                "verbose_name_plural": "特困人员待办事项",
                "ordering": ["due_on", "pk"],
                "indexes": [
                    models.Index(
                        fields=["region_code"],
                        name="tekun_task_region_idx",
                        opclasses=["varchar_pattern_ops"],
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("is_open", True)),
                        fields=("application", "kind"),
                        name="one_open_tekun_task_per_kind",
                        violation_error_message="该特困人员已有正在办理的同类事项",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="TekunTermination",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.CharField(max_length=32, unique=True, verbose_name="决定书编号")),
                ("region_code", models.CharField(editable=False, max_length=12, verbose_name="区划代码")),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("death", "死亡或者被宣告死亡、宣告失踪"),
                            ("work_ability", "具备或者恢复劳动能力"),
                            ("imprisonment", "依法被判处刑罚，且在监狱内服刑"),
                            ("income", "收入和财产状况不再符合特困人员认定条件"),
                            ("supporter", "法定义务人具有了履行义务能力或者新增具有履行义务能力的法定义务人"),
                            ("voluntary", "自愿申请退出救助供养"),
                            ("minor_age", "未成年人年满18周岁且不在校就读"),
                        ],
                        max_length=20,
                        verbose_name="终止原因",
                    ),
                ),
                ("details", models.TextField(verbose_name="终止理由")),
                ("effective_month", models.DateField(help_text="自该月起停止发放", verbose_name="终止月份")),
                ("decided_at", models.DateTimeField(auto_now_add=True, verbose_name="决定时间")),
                (
                    "application",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="termination",
                        to="assistance.tekunapplication",
                        verbose_name="特困人员认定",
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="决定人",
                    ),
                ),
                (
                    "person",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registry.person",
                        verbose_name="特困人员",
                    ),
                ),
                (
                    "task",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="assistance.tekuntask",
                        verbose_name="来源事项",
                    ),
                ),
            ],
            options={
                "verbose_name": "特困人员终止救助供养决定",
                "verbose_name_plural": "特困人员终止救助供养决定",
                "ordering": ["-decided_at"],
                "indexes": [
                    models.Index(
                        fields=["region_code"],
                        name="tekun_term_region_idx",
                        opclasses=["varchar_pattern_ops"],
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="TekunCareAgreement",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("region_code", models.CharField(editable=False, max_length=12, verbose_name="区划代码")),
                ("carer_name", models.CharField(max_length=50, verbose_name="照料人姓名")),
                ("carer_relation", models.CharField(max_length=30, verbose_name="与特困人员关系")),
                ("carer_phone", models.CharField(max_length=20, verbose_name="照料人电话")),
                ("services", models.TextField(verbose_name="照料服务内容")),
                ("frequency", models.CharField(max_length=50, verbose_name="服务频次")),
                ("signed_on", models.DateField(verbose_name="签订日期")),
                ("valid_until", models.DateField(verbose_name="有效期至")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="登记时间")),
                (
                    "application",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="care_agreements",
                        to="assistance.tekunapplication",
                        verbose_name="特困人员认定",
                    ),
                ),
                (
                    "person",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registry.person",
                        verbose_name="特困人员",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="登记人",
                    ),
                ),
            ],
            options={
                "verbose_name": "特困人员照料服务协议",
                "verbose_name_plural": "特困人员照料服务协议",
                "ordering": ["-signed_on", "-pk"],
                "indexes": [
                    models.Index(
                        fields=["region_code"],
                        name="tekun_care_region_idx",
                        opclasses=["varchar_pattern_ops"],
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("valid_until__gte", models.F("signed_on"))),
                        name="tekun_care_valid_after_signed",
                    )
                ],
            },
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
