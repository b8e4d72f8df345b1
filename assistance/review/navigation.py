"""Menu entry of 低保 dynamic management, and the bureau's demo data (imported by AssistanceConfig.ready())."""

from core.portal.demo import register_demo_seeder

from ..delegation import navigation as _delegation_navigation  # noqa: F401  (委托确认抽查, next to 复核)
from ..navigation import MENU

# The worker's autodiscovery looks at assistance.tasks only: importing the module registers the task.
from . import tasks  # noqa: F401
from .flow import ReviewFlow

ReviewFlow.register_nav(MENU, icon="arrow-repeat")


def _seed_demo(*, stdout, rng_seed: int) -> None:
    from ..demo import seed_assistance_demo

    seed_assistance_demo(stdout=stdout, rng_seed=rng_seed)


register_demo_seeder("社会救助", _seed_demo)
