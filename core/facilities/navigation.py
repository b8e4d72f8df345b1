"""The 服务设施 menu group: shared by every section (section_code ""), each entry by its permission."""

from core.accounts.navigation import NavGroup, NavItem

MENU = NavGroup("facilities", "服务设施", order=70)

MENU.register(
    NavItem("设施台账", "facilities:facility_list", "building", "facilities.view_facility"),
    NavItem(
        "逾期未整改隐患", "facilities:hazard_overdue_list", "exclamation-triangle", "facilities.view_hazard"
    ),
    NavItem("未检查设施", "facilities:uninspected_list", "calendar-x", "facilities.view_inspection"),
)
