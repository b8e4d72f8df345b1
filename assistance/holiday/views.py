"""The holiday one-off payment page: choose month, amounts and title → a one-off payment run."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from core.accounts.templatetags.ui import money
from core.benefits.exceptions import BenefitsError
from core.benefits.models import PaymentRun
from core.benefits.selectors import runs_totals_in_scope, with_line_bounds
from core.form_pages import apply_service_errors
from core.forms_once import once_per_form

from . import services
from .forms import HolidayPaymentForm

RECENT_RUNS = 20


@require_http_methods(["GET", "POST"])
@login_required
@permission_required(services.PERMISSION, raise_exception=True)
@once_per_form
def holiday_payment(request: HttpRequest) -> HttpResponse:
    form = HolidayPaymentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            run = services.holiday_payment_run(
                month=data["month"],
                title=data["title"],
                household_amount=data["household_amount"],
                person_amount=data["person_amount"],
                actor=request.user,
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        except BenefitsError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"已生成“{run.title}”：发放 {run.line_count} 笔，合计 {money(run.total_amount)}"
            )
            return redirect("benefits:run_detail", pk=run.pk)
    runs = list(
        with_line_bounds(
            PaymentRun.objects.filter(
                benefit_type__code=services.HOLIDAY_BENEFIT_TYPE, kind=PaymentRun.Kind.ONE_OFF
            )
        )
        .select_related("calculated_by", "locked_by")
        .order_by("-month", "-id")[:RECENT_RUNS]
    )
    totals = runs_totals_in_scope(request.user, runs)
    return render(
        request,
        "assistance/holiday/form.html",
        {
            "form": form,
            "runs": [(run, totals[run.pk]) for run in runs],
            "title": "节日一次性生活补贴",
            "crumbs": [("发放批次", reverse("benefits:run_list"))],
            "cancel_url": reverse("benefits:run_list"),
            "submit_label": "生成发放批次",
        },
        status=400 if form.is_bound and form.errors else 200,
    )
