"""Seed the social-assistance benefit types, their standards and parameters with the demo values.

The values are those of core/portal/demo_data.py (DOMAIN.md "社会救助"); rows are looked up by their
natural keys — BenefitType.code; Standard (benefit type, area, tier, effective_from); Parameter (key,
effective_from) — exactly as `seed_demo` does, so running both never duplicates a row. Every value stays
editable in the admin; the migration only provides a starting point and never overwrites an edited row.
"""

import datetime
from decimal import Decimal

from django.db import migrations

from core.portal import demo_data as demo

ASSISTANCE_BENEFIT_TYPES = (
    "dibao",
    "tekun_basic",
    "tekun_care",
    "temp_assistance",
    "disability_living",
    "disability_care",
)

# Parameters the assistance rules and cases read (demo_data.PARAMETERS); the general time limits
# (notice.min_days, refusal.reason_working_days) are shared, seeded here too because 低保/特困 use them.
ASSISTANCE_PARAMETER_PREFIXES = ("dibao.", "temp.", "tekun.", "rigid.", "notice.", "refusal.", "minimum_wage")

# Parameters that assistance/rules.py adds beyond demo_data.PARAMETERS (key, name, value, from, source).
EXTRA_PARAMETERS = [
    (
        "tekun.minor_age",
        "特困人员认定：无劳动能力的未成年人年龄上限（周岁，不含）",
        Decimal("16"),
        datetime.date(2021, 7, 1),
        "民发〔2021〕43号 第六条（部分省份为18周岁）",
    ),
    (
        "rigid.spending_share",
        "刚性支出困难家庭：近12个月刚性支出占家庭收入比例下限",
        Decimal("0.5"),
        datetime.date(2024, 1, 1),
        "demo: 地方规定，一般为50%–80%",
    ),
]


def seed(apps, schema_editor):
    BenefitType = apps.get_model("benefits", "BenefitType")
    Standard = apps.get_model("benefits", "Standard")
    Parameter = apps.get_model("benefits", "Parameter")

    types = {}
    for code, name, bureau, monthly, rounding, order in demo.BENEFIT_TYPES:
        if code not in ASSISTANCE_BENEFIT_TYPES:
            continue
        types[code], _ = BenefitType.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "bureau": bureau,
                "is_monthly": monthly,
                "rounding": rounding,
                "sort_order": order,
            },
        )
    for code, area, tier, amount, unit, start, end, source in demo.STANDARDS:
        if code not in types:
            continue
        Standard.objects.get_or_create(
            benefit_type=types[code],
            area_type=area,
            tier=tier,
            effective_from=start,
            defaults={"amount": amount, "unit": unit, "effective_to": end, "source": source},
        )
    for key, name, value, start, source in [*demo.PARAMETERS, *EXTRA_PARAMETERS]:
        if not key.startswith(ASSISTANCE_PARAMETER_PREFIXES):
            continue
        Parameter.objects.get_or_create(
            key=key, effective_from=start, defaults={"name": name, "value": value, "source": source}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("benefits", "0003_run_audit_line_unique"),
    ]

    # Reversing keeps the rows: standards may already be referenced by entitlements and payment lines.
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
