"""Menu entries and record buttons of 残疾人两项补贴 (imported by AssistanceConfig.ready())."""

from core.accounts.navigation import NavItem

from ..navigation import MENU
from .flow import DisabilityFlow

# The person page offers the application for that person; the household page lists its members to pick.
DisabilityFlow.register_nav(
    MENU,
    icon="universal-access",
    label="两项补贴台账",
    pages=[
        NavItem(
            "两项补贴月度比对",
            "assistance:disability_comparison",
            "arrow-left-right",
            "benefits.view_entitlement",
        )
    ],
    action_label="申请两项补贴",
    action_order=30,
)

# The holiday one-off payment is its own subpackage, not one of the flows AssistanceConfig.ready()
# imports; its menu entry is registered from here.
from ..holiday import navigation as _holiday_navigation  # noqa: E402, F401
