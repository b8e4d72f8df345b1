"""The dashboard's headline counts (户籍 households and persons, 本月在保 per benefit type) for the user's
scope: kept per scope and day with the panels (core.portal.dashboard.scope_figures), registered at import
(PortalConfig.ready) so that a Celery worker can take them again as well."""

from __future__ import annotations

from django.db.models import Count, Q

from core.benefits.models import Entitlement
from core.registry.models import Household, Person

from .dashboard import register_scope_figures

HEADLINE = "headline"


def headline_figures(user, today) -> dict:
    """The dashboard's 户籍 and 本月在保 counts for the user's scope (cached per scope and day with the
    panels: they depend on the scope only)."""
    households = Household.objects.visible_to(user).filter(is_active=True).count()
    persons = Person.objects.visible_to(user).filter(death_date__isnull=True, household__isnull=False).count()
    # 本月在保, as the bureaus' own panels count it: active and in force this month (not one that starts
    # next month); a household's benefit (低保) counted in 户, a person's in 人.
    this_month = today.replace(day=1)
    entitlements = list(
        Entitlement.objects.visible_to(user)
        .filter(status=Entitlement.Status.ACTIVE, start_month__lte=this_month)
        .filter(Q(end_month__isnull=True) | Q(end_month__gte=this_month))
        .values("benefit_type__name", "benefit_type__sort_order")
        .annotate(
            households=Count("id", filter=Q(person__isnull=True)),
            persons=Count("id", filter=Q(person__isnull=False)),
        )
        .order_by("benefit_type__sort_order")
    )
    return {"households": households, "persons": persons, "entitlements": entitlements}


register_scope_figures(HEADLINE, headline_figures)
