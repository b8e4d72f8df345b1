"""Menu entry and record buttons of the 临时救助 flow (imported by AssistanceConfig.ready())."""

from core.accounts.navigation import NavItem

from ..navigation import MENU
from .flow import TempFlow

TempFlow.register_nav(
    MENU,
    icon="life-preserver",
    # 急难发生地: a person without a household in the district has no household page to start from.
    pages=[
        NavItem(
            "非本区户籍人员临时救助", "assistance:temp_create_nonresident", "person-plus", "workflow.add_case"
        )
    ],
    action_label="临时救助",
    action_order=30,
)
