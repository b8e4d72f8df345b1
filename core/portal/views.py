from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from core.plans import without_jit
from core.workflow import selectors as workflow_selectors
from core.workflow.calendar import missing_calendar_years

from .dashboard import panels_for
from .headline import HEADLINE


@login_required
@without_jit  # a district's counts: index scans the planner would JIT-compile (core/plans.py)
def dashboard(request):
    user = request.user
    today = timezone.localdate()
    todo = list(workflow_selectors.todo_for(user, today=today)[:15])
    counts = workflow_selectors.todo_counts(user, today=today)
    missing_years = missing_calendar_years(today)
    # This month's headline figures, contributed by the bureau apps (core.portal.dashboard).
    panels, kept = panels_for(user, today, extra=[HEADLINE])
    headline = kept.get(HEADLINE)
    # When the oldest of the kept figures on the page was computed (the page says so beside them).
    times = [f.computed_at for f in kept.values()] + [p.computed_at for p in panels if p.computed_at]
    return render(
        request,
        "portal/dashboard.html",
        {
            "todo": todo,
            "todo_counts": counts,
            **(headline.value if headline else {"households": 0, "persons": 0, "entitlements": []}),
            "figures_at": min(times, default=None),
            "missing_years": missing_years,
            "today": today,
            "panels": panels,
        },
    )
