"""Menu entry of 低保 dynamic management, and the bureau's demo data (imported by AssistanceConfig.ready())."""

from core.accounts.navigation import NavItem, register_nav
from core.portal.demo import register_demo_seeder

from ..navigation import ORDER, SECTION, SECTION_CODE

# The worker's autodiscovery looks at assistance.tasks only: importing the module registers the task.
from . import tasks  # noqa: F401

register_nav(
    *SECTION,
    NavItem("低保动态复核", "assistance:review_list", "arrow-repeat", "workflow.view_case"),
    order=ORDER,
    section_code=SECTION_CODE,
)


def _seed_demo(*, stdout, rng_seed: int) -> None:
    from ..demo import seed_assistance_demo

    seed_assistance_demo(stdout=stdout, rng_seed=rng_seed)


register_demo_seeder("社会救助", _seed_demo)
