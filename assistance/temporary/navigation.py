"""Menu entry and record buttons of the 临时救助 flow (imported by AssistanceConfig.ready())."""

from ..navigation import MENU
from .flow import TempFlow

TempFlow.register_nav(MENU, icon="life-preserver", action_label="临时救助", action_order=30)
