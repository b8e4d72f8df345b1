"""The facility kinds of the issue's list, grouped by the section whose staff edit them (业务科室 codes of
core/accounts/migrations/0005). A bureau app adds its own kinds by a data migration of its own.

社工站, 志愿服务站 and 社区综合服务设施 go to 社会组织管理科 (social_orgs): the bureau has no 基层政权和社区建设科
among its sections, the district's 社会工作 and 志愿服务 are run with the social organisations (社工站 are
operated by 社会服务机构), and seed 004's indicator puts volunteer stations inside the community service
facilities ("volunteer stations in 100% of community facilities") — one section for the three."""

from django.db import migrations

KINDS = [
    # code, name, section code, has_beds, sort order
    ("elder_institution", "养老机构", "eldercare", True, 10),
    ("day_care_center", "日间照料中心", "eldercare", False, 11),
    ("home_care_center", "居家养老服务中心", "eldercare", False, 12),
    ("meal_site", "助餐点", "eldercare", False, 13),
    ("rural_elder_yard", "农村养老大院", "eldercare", False, 14),
    ("child_welfare_institution", "儿童福利机构", "children", True, 20),
    ("minor_protection_station", "未成年人保护工作站", "children", False, 21),
    ("children_home", "儿童之家", "children", False, 22),
    ("social_work_station", "社工站", "social_orgs", False, 30),
    ("volunteer_station", "志愿服务站", "social_orgs", False, 31),
    ("community_service_facility", "社区综合服务设施", "social_orgs", False, 32),
    ("funeral_home", "殡仪馆", "funeral", False, 40),
    ("cemetery", "公墓", "funeral", False, 41),
    ("columbarium", "骨灰堂", "funeral", False, 42),
    ("relief_station", "救助管理站", "assistance", True, 50),
    ("marriage_registry", "婚姻登记处", "marriage", False, 60),
]


def seed_kinds(apps, schema_editor):
    FacilityKind = apps.get_model("facilities", "FacilityKind")
    for code, name, section, has_beds, order in KINDS:
        FacilityKind.objects.get_or_create(
            code=code,
            defaults={"name": name, "section_code": section, "has_beds": has_beds, "sort_order": order},
        )


class Migration(migrations.Migration):
    dependencies = [("facilities", "0001_initial")]

    operations = [migrations.RunPython(seed_kinds, migrations.RunPython.noop)]
