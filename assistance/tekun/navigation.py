"""Menu entry and record buttons of the 特困 flow (imported by AssistanceConfig.ready())."""

from ..navigation import MENU
from .flow import TekunFlow

# The household page offers the application for one of its members; the person page for that person.
TekunFlow.register_nav(
    MENU, icon="person-heart", action_label="申请特困", action_icon="person-plus", action_order=20
)
