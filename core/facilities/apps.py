from django.apps import AppConfig


class FacilitiesConfig(AppConfig):
    """服务设施: the register of facilities every bureau runs or supervises, with safety inspections.

    Who does what (core/accounts/roles.py, checked again in services.py):
    - Everyone with a facilities role sees the facilities, inspections and hazards in their region scope
      (`visible_to`): a community caseworker those of the community, a street reviewer the street's, district
      staff the district's; outside scope is a 404.
    - A facility of a kind is edited — registered, changed, inspected, its hazards rectified and re-inspected —
      by the staff of its kind's section (FacilityKind.section_code): 科室经办人 and 科长 who hold their role in
      that section (养老服务科 for 养老机构 …), and by the general community and street staff (社区经办人,
      街道审核员) within their scope, who are the ones on site for a 助餐点 or a 儿童之家. A district role of
      another section reads them only.
    - 局领导 reads everything in scope; 系统管理员 maintains the kinds in the admin, no facility."""

    name = "core.facilities"
    label = "facilities"
    verbose_name = "服务设施"

    def ready(self):
        from . import navigation  # noqa: F401  (registers the menu group)
