import datetime

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils import timezone

from core.validation import refused_filter_message

from .forms import AccessLogFilterForm
from .selectors import access_logs_visible_to


@permission_required("accounts.view_accesslog", raise_exception=True)
def access_log(request):
    """Administrators search who saw or exported full personal data (个人信息查阅记录)."""
    form = AccessLogFilterForm(request.GET or None)
    # Scoped by region like every other record: reveals and exports of the viewer's district only.
    logs = access_logs_visible_to(request.user).order_by("-at")
    if form.is_bound and not form.is_valid():
        messages.error(request, refused_filter_message(form))
        logs = logs.none()
    elif form.is_valid():
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
    # A refusal raised with a message (e.g. "您不是社会救助科的科长，不能锁定该批次") says why.
    reason = str(exception) if exception is not None else ""
    return render(request, "errors/403.html", {"reason": reason}, status=403)


def page_not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def server_error(request):
    # No context processors: the database may be the thing that failed.
    return HttpResponseServerError(loader.get_template("errors/500.html").render())
