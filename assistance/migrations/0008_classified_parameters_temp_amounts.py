"""分类施保 and 临时救助 parameters as DOMAIN.md "社会救助" states them (issue 13, items 4 and 5).

- 分类施保 under readable keys dibao.classified.*: additions of the standard for a covered member —
  severe disability (grade 1–2) 30 %, serious illness 30 %, aged 60+ or a minor 10 %, aged 70+ 20 % —
  the highest per member; a mode (0 = addition, the demo; 1 = floor) and the floor share ("not below 75 %
  of the standard") for the floor variant. The earlier dibao.increment.* rows (75 % and 100 %, which paid
  a single seriously ill person twice the standard) are no longer read; their names say so.
- temp.max_standard_multiple: the largest 临时救助 amount, as a multiple of the monthly urban standard
  (a constant 100 × before).
- 临时救助 is decided and paid to the fen: its benefit type rounds to 分 (it rounded to 元).

Rows are looked up by their natural keys and never overwrite an edited row.
"""

import datetime
from decimal import Decimal

from django.db import migrations

START = datetime.date(2021, 7, 1)
DOMAIN = "DOMAIN.md 社会救助（分类施保 demo）"

PARAMETERS = [
    (
        "dibao.classified.severe_disability",
        "低保分类施保：重度残疾（一、二级）加发（占标准比例）",
        "0.30",
        DOMAIN,
    ),
    ("dibao.classified.serious_illness", "低保分类施保：重病加发（占标准比例）", "0.30", DOMAIN),
    ("dibao.classified.age60_or_minor", "低保分类施保：60周岁以上或未成年加发（占标准比例）", "0.10", DOMAIN),
    ("dibao.classified.age70", "低保分类施保：70周岁以上加发（占标准比例）", "0.20", DOMAIN),
    (
        "dibao.classified.mode",
        "低保分类施保方式（0＝按标准比例加发，取最高一项；1＝不低于标准的规定比例）",
        "0",
        DOMAIN,
    ),
    (
        "dibao.classified.floor_share",
        "低保分类施保（方式1）：保障对象不低于标准的比例",
        "0.75",
        "DOMAIN.md 社会救助（部分省份“不低于标准的75%”）",
    ),
    (
        "temp.max_standard_multiple",
        "临时救助金额上限（城市低保月标准的倍数）",
        "100",
        "demo",
    ),
]

OLD_INCREMENT_KEYS = (
    "dibao.increment.severe_disability",
    "dibao.increment.serious_illness",
    "dibao.increment.age60_or_minor",
    "dibao.increment.age70",
)
UNUSED = "（已停用，见 dibao.classified.*）"


def seed(apps, schema_editor):
    Parameter = apps.get_model("benefits", "Parameter")
    BenefitType = apps.get_model("benefits", "BenefitType")
    for key, name, value, source in PARAMETERS:
        Parameter.objects.get_or_create(
            key=key, effective_from=START, defaults={"name": name, "value": Decimal(value), "source": source}
        )
    for row in Parameter.objects.filter(key__in=OLD_INCREMENT_KEYS):
        if not row.name.endswith(UNUSED):
            row.name = (row.name[: 100 - len(UNUSED)] + UNUSED)[:100]
            row.save(update_fields=["name"])
    BenefitType.objects.filter(code="temp_assistance", rounding="yuan").update(rounding="fen")


class Migration(migrations.Migration):
    dependencies = [
        ("assistance", "0007_time_limit_extension"),
        ("benefits", "0003_run_audit_line_unique"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
