"""The social-assistance benefit types belong to 社会救助科 (section "assistance"): recalculating and locking
their payment runs needs the district role in that section. Rows an administrator already gave a section
are left alone."""

from django.db import migrations

ASSISTANCE_BENEFIT_TYPES = (
    "dibao",
    "tekun_basic",
    "tekun_care",
    "temp_assistance",
    "disability_living",
    "disability_care",
    "holiday_allowance",  # created on first use by assistance.holiday.services
)


def set_section(apps, schema_editor):
    BenefitType = apps.get_model("benefits", "BenefitType")
    Section = apps.get_model("accounts", "Section")
    section = Section.objects.filter(code="assistance").first()
    if section is not None:
        BenefitType.objects.filter(code__in=ASSISTANCE_BENEFIT_TYPES, section__isnull=True).update(
            section=section
        )


class Migration(migrations.Migration):
    dependencies = [
        ("assistance", "0005_case_flow_kit_bases"),
        ("accounts", "0005_section_sectionrole"),
        ("benefits", "0005_benefittype_section"),
    ]

    operations = [migrations.RunPython(set_section, migrations.RunPython.noop)]
