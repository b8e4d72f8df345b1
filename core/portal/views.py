from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone

from core.benefits.models import Entitlement
from core.plans import without_jit
from core.registry.models import Household, Person
from core.workflow import selectors as workflow_selectors
from core.workflow.calendar import missing_calendar_years

from .dashboard import panels_for, scope_cached


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


@login_required
@without_jit  # a district's counts: index scans the planner would JIT-compile (core/plans.py)
def dashboard(request):
    user = request.user
    today = timezone.localdate()
    todo = list(workflow_selectors.todo_for(user, today=today)[:15])
    counts = workflow_selectors.todo_counts(user, today=today)
    figures = scope_cached("headline", user, today, headline_figures)
    missing_years = missing_calendar_years(today)
    # This month's headline figures, contributed by the bureau apps (core.portal.dashboard).
    panels = panels_for(user, today)
    return render(
        request,
        "portal/dashboard.html",
        {
            "todo": todo,
            "todo_counts": counts,
            **figures,
            "missing_years": missing_years,
            "today": today,
            "panels": panels,
        },
    )
