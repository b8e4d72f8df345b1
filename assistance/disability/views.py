"""The pages of the 残疾人两项补贴 flow the case-flow kit does not have: the monthly comparison (应补尽补、
应退尽退) and 停发 of one of its lines. The list, create, detail and actions are the kit's (flow.py).

Permission first (403), then scope: a record outside the user's region is a 404, like a missing one."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.benefits.models import Entitlement
from core.benefits.months import month_start
from core.plans import without_jit
from core.validation import refused_filter_message

from ..models import DisabilitySubsidy
from . import selectors, services
from .forms import ComparisonForm

PAGE_SIZE = 50
COMPARISON_LISTS = ("stop", "living", "care")


def _perm(name: str):
    def decorator(view):
        return login_required(permission_required(name, raise_exception=True)(view))

    return decorator


def _comparison_month(request: HttpRequest) -> tuple[ComparisonForm, datetime.date]:
    form = ComparisonForm(request.GET or None)
    month = form.cleaned_data.get("month") if form.is_valid() else None
    if form.is_bound and not form.is_valid():
        messages.error(request, refused_filter_message(form))
    return form, month or month_start(timezone.localdate())


@require_http_methods(["GET"])
@_perm("benefits.view_entitlement")
@without_jit  # the scope's subsidies and disabled people: index scans (core/plans.py)
def disability_comparison(request: HttpRequest) -> HttpResponse:
    """月度比对 (应补尽补、应退尽退): who must stop, who should be added, and the coverage."""
    form, month = _comparison_month(request)
    user = request.user
    current = request.GET.get("list", "stop")
    if current not in COMPARISON_LISTS:
        current = "stop"
    # The three lists and the coverage from plain values (a handful of queries, kept a few minutes for the
    # scope: the page says when they were made and 重新比对 makes them again); the page's rows alone.
    comparison, compared_at = selectors.monthly_comparison_kept(
        user, month, refresh=request.GET.get("refresh") == "1"
    )
    rows = comparison.stop if current == "stop" else comparison.add[current]
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assistance/disability/comparison.html",
        {
            "form": form,
            "month": month,
            "month_value": f"{month:%Y-%m}",
            "current": current,
            "page": page,
            "counts": comparison.counts,
            "compared_at": compared_at,
            "coverage": comparison.coverage,
            "can_stop": user.has_perm(services.STOP_PERMISSION),
            "can_apply": user.has_perm("workflow.add_case"),
            "subsidy_labels": dict(DisabilitySubsidy.choices),
        },
    )


@require_POST
@_perm(services.STOP_PERMISSION)
def disability_stop(request: HttpRequest, pk: int) -> HttpResponse:
    """停发 one line of the comparison (the reason is the comparison's, editable)."""
    entitlement = get_object_or_404(Entitlement.objects.visible_to(request.user), pk=pk)
    try:
        entitlement = services.disability_subsidy_stop(
            entitlement=entitlement, actor=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(
            request,
            f"已停发{entitlement.person.name if entitlement.person else ''}的{entitlement.benefit_type.name}，"
            f"最后发放月份为{entitlement.end_month.year}年{entitlement.end_month.month}月",
        )
    # Back to the same month and list (only these two values are taken from the form).
    back = {"list": request.POST.get("list", "stop"), "month": request.POST.get("month", "")}
    if back["list"] not in COMPARISON_LISTS:
        back["list"] = "stop"
    return redirect(f"{reverse('assistance:disability_comparison')}?{urlencode(back)}")
