"""社会救助对象探访: 分散供养特困人员, and 低保/特困 members with a severe disability (grade 1–2) or a serious
illness — visited monthly (seeds 002/003: 低收入人口动态监测, 分散供养特困人员 探访照料)."""

from __future__ import annotations

import datetime
import functools

from django.db.models import Q, QuerySet

from core.portal.demo import register_demo_seeder
from core.registry.models import Person
from core.visits.demo import seed_programme_demo, seed_visits_demo
from core.visits.programmes import Programme, register_programme
from core.visits.rules import holds_entitlement, in_household_with_entitlement, severely_disabled

CODE = "assistance_key"
DISPERSED = "分散供养"  # params["tier"] of a 特困 basic-living entitlement (assistance/calculators.py)


def suggest_assistance(user, on_date: datetime.date) -> QuerySet[Person]:
    covered = holds_entitlement(("tekun_basic",), on_date) | in_household_with_entitlement(
        ("dibao",), on_date
    )
    rule = holds_entitlement(("tekun_basic",), on_date, tier=DISPERSED) | (
        covered & (severely_disabled() | Q(serious_illness=True))
    )
    return Person.objects.visible_to(user).filter(rule)


register_programme(
    Programme(
        code=CODE,
        title="分散供养特困及重残重病低保对象探访",
        section="assistance",
        suggest=suggest_assistance,
        rule_text="分散供养特困人员；低保家庭成员或特困人员中持一、二级残疾证或患重病者",
        sort_order=20,
    )
)
register_demo_seeder(f"visits.{CODE}", functools.partial(seed_programme_demo, CODE), order=305)
# Once for every bureau (the first registration of the name counts), after all enrolments.
register_demo_seeder("visits", seed_visits_demo, order=390)
