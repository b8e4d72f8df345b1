"""Sections (业务科室) and the district roles users hold in them; the six sections seeded, and the role
groups re-synced so that 系统管理员 can maintain sections and section roles in the admin."""

import django.db.models.deletion
from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

SECTIONS = [
    # code, name, sort_order
    ("assistance", "社会救助科", 10),
    ("eldercare", "养老服务科", 20),
    ("children", "儿童福利科", 30),
    ("social_orgs", "社会组织管理科", 40),
    ("funeral", "社会事务科", 50),
    ("marriage", "婚姻登记处", 60),
]


def seed_sections(apps, schema_editor):
    Section = apps.get_model("accounts", "Section")
    for code, name, order in SECTIONS:
        Section.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})


def sync_roles(apps, schema_editor):
    for config in global_apps.get_app_configs():
        create_permissions(config, verbosity=0, apps=apps)
    from core.accounts.roles import sync_role_groups

    sync_role_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), missing_ok=True)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_sync_roles"),
    ]

    operations = [
        migrations.CreateModel(
            name="Section",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.SlugField(max_length=30, unique=True, verbose_name="代码")),
                ("name", models.CharField(max_length=50, verbose_name="名称")),
                ("sort_order", models.PositiveSmallIntegerField(default=100, verbose_name="排序")),
                ("is_active", models.BooleanField(default=True, verbose_name="启用")),
            ],
            options={
                "verbose_name": "业务科室",
                "verbose_name_plural": "业务科室",
                "ordering": ["sort_order", "code"],
            },
        ),
        migrations.CreateModel(
            name="SectionRole",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "role",
                    models.CharField(
                        choices=[("科室经办人", "科室经办人"), ("科长", "科长")],
                        max_length=20,
                        verbose_name="角色",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="设置时间")),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="设置人",
                    ),
                ),
                (
                    "section",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="roles",
                        to="accounts.section",
                        verbose_name="业务科室",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="section_roles",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="用户",
                    ),
                ),
            ],
            options={
                "verbose_name": "科室角色",
                "verbose_name_plural": "科室角色",
                "ordering": ["section__sort_order", "role"],
                "constraints": [
                    models.UniqueConstraint(fields=("user", "section", "role"), name="section_role_unique")
                ],
            },
        ),
        migrations.RunPython(seed_sections, migrations.RunPython.noop),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
