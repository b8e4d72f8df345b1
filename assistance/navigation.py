"""Left navigation entries of the social-assistance bureau (社会救助): the bureau's menu group, which every
flow of the bureau registers its entries in, and the 低保 flow's entries."""

from core.accounts.navigation import NavGroup, NavItem

from .flow import DibaoFlow

# 社会救助科 (core.accounts.Section "assistance"): whose district staff see this group.
MENU = NavGroup("assistance", "社会救助", order=20, section_code="assistance")

# The household page offers the application for that household.
DibaoFlow.register_nav(
    MENU,
    icon="clipboard-check",
    pages=[
        NavItem(
            "低保保障家庭及审批案件", "assistance:dibao_entitlements", "people", "benefits.view_entitlement"
        ),
        NavItem("低保变化核查", "assistance:checks_list", "search", "benefits.view_entitlement"),
        NavItem(
            "低保边缘和刚性支出家庭", "assistance:low_income_list", "house-heart", "benefits.view_entitlement"
        ),
        NavItem("专项救助转介", "assistance:referrals_list", "signpost-split", "benefits.view_entitlement"),
    ],
    create_in_menu=True,
    action_label="申请低保",
    action_icon="clipboard-plus",
    action_order=10,
)
