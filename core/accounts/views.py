import datetime

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils import timezone

from core.benefits.models import Entitlement
from core.registry.models import Household, Person

from .dashboard import panels_for
from .forms import AccessLogFilterForm
from .models import AccessLog


@login_required
def dashboard(request):
    from core.workflow import selectors as workflow_selectors
    from core.workflow.calendar import missing_calendar_years

    user = request.user
    today = timezone.localdate()
    todo = list(workflow_selectors.todo_for(user, today=today)[:15])
    counts = workflow_selectors.todo_counts(user, today=today)
    households = Household.objects.visible_to(user).filter(is_active=True).count()
    persons = Person.objects.visible_to(user).filter(death_date__isnull=True, household__isnull=False).count()
    entitlements = list(
        Entitlement.objects.visible_to(user)
        .filter(status=Entitlement.Status.ACTIVE)
        .filter(Q(end_month__isnull=True) | Q(end_month__gte=today.replace(day=1)))
        .values("benefit_type__name")
        .annotate(n=Count("id"))
        .order_by("benefit_type__sort_order")
    )
    missing_years = missing_calendar_years(today)
    # This month's headline figures, contributed by the bureau apps (core.accounts.dashboard).
    panels = panels_for(user, today)
    return render(
        request,
        "accounts/dashboard.html",
        {
            "todo": todo,
            "todo_counts": counts,
            "households": households,
            "persons": persons,
            "entitlements": entitlements,
            "missing_years": missing_years,
            "today": today,
            "panels": panels,
        },
    )


@permission_required("accounts.view_accesslog", raise_exception=True)
def access_log(request):
    """Administrators search who saw or exported full personal data (个人信息查阅记录)."""
    form = AccessLogFilterForm(request.GET or None)
    logs = AccessLog.objects.select_related("user", "person", "household").order_by("-at")
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            q = data["q"].strip()
            logs = logs.filter(
                Q(user__username__contains=q)
                | Q(user__display_name__contains=q)
                | Q(person__name__contains=q)
                | Q(household__number=q)
            )
        if data["action"]:
            logs = logs.filter(action=data["action"])
        tz = timezone.get_current_timezone()
        if data["date_from"]:
            logs = logs.filter(
                at__gte=datetime.datetime.combine(data["date_from"], datetime.time.min, tzinfo=tz)
            )
        if data["date_to"]:
            end = datetime.datetime.combine(
                data["date_to"] + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
            )
            logs = logs.filter(at__lt=end)
    page = Paginator(logs, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/access_log.html", {"form": form, "page": page})


def permission_denied(request, exception=None):
    return render(request, "errors/403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def server_error(request):
    # No context processors: the database may be the thing that failed.
    return HttpResponseServerError(loader.get_template("errors/500.html").render())
