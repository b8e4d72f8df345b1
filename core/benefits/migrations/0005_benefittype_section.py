"""Each benefit type names its section (业务科室): the free-text `bureau` of the existing rows is copied
to the Section of that name (社会救助科 → assistance …); `bureau` stays, no longer editable."""

import django.db.models.deletion
from django.db import migrations, models


def copy_bureau_to_section(apps, schema_editor):
    BenefitType = apps.get_model("benefits", "BenefitType")
    Section = apps.get_model("accounts", "Section")
    by_name = {s.name: s for s in Section.objects.all()}
    for benefit_type in BenefitType.objects.filter(section__isnull=True).exclude(bureau=""):
        section = by_name.get(benefit_type.bureau)
        if section is not None:
            benefit_type.section = section
            benefit_type.save(update_fields=["section"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_section_sectionrole"),
        ("benefits", "0004_line_fk_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="benefittype",
            name="section",
            field=models.ForeignKey(
                blank=True,
                help_text="计算、锁定发放批次须具有本科室的科室经办人或科长角色",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="benefit_types",
                to="accounts.section",
                verbose_name="业务科室",
            ),
        ),
        migrations.AlterField(
            model_name="benefittype",
            name="bureau",
            field=models.CharField(blank=True, editable=False, max_length=30, verbose_name="业务科室（旧）"),
        ),
        migrations.RunPython(copy_bureau_to_section, migrations.RunPython.noop),
    ]
