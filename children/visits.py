"""困境儿童、留守儿童探访 (seeds 002/004: quarterly home visits to 散居孤儿, 事实无人抚养, 困境 and 留守 children).
The rule suggests minors of 低保/特困 households and disabled minors; orphans and 留守 children have no
registry data yet and are enrolled by hand (with the reason)."""

from __future__ import annotations

import datetime
import functools

from django.db.models import Q, QuerySet

from core.portal.demo import register_demo_seeder
from core.registry.models import Person
from core.visits.demo import seed_programme_demo, seed_visits_demo
from core.visits.programmes import Programme, register_programme
from core.visits.rules import aged_under, holds_entitlement, in_household_with_entitlement

CODE = "child_difficult"


def suggest_children(user, on_date: datetime.date) -> QuerySet[Person]:
    difficult = (
        in_household_with_entitlement(("dibao", "tekun_basic"), on_date)
        | holds_entitlement(("tekun_basic",), on_date)
        | Q(disability_grade__isnull=False)
    )
    return Person.objects.visible_to(user).filter(aged_under(18, on_date)).filter(difficult)


register_programme(
    Programme(
        code=CODE,
        title="困境儿童和留守儿童探访",
        section="children",
        suggest=suggest_children,
        rule_text="未满18周岁，且为低保、特困家庭的儿童或持残疾证的儿童（孤儿、事实无人抚养儿童、留守儿童请手工纳入）",
        sort_order=30,
    )
)
register_demo_seeder(f"visits.{CODE}", functools.partial(seed_programme_demo, CODE), order=310)
# Once for every bureau (the first registration of the name counts), after all enrolments.
register_demo_seeder("visits", seed_visits_demo, order=390)
