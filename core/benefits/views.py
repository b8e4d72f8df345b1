"""Payment runs, their lines and the standards. Views parse input, call one service or task, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.accounts.templatetags.ui import money
from core.forms_once import once_per_form
from core.validation import refused_filter_message

from . import selectors, services, tasks
from .exceptions import BenefitsError, RunOutsideScope, SectionRoleRequired
from .forms import LineFilterForm, RunCreateForm, RunFilterForm, StandardChangeForm, StandardFilterForm
from .models import BenefitType, PaymentLine, PaymentRun

RUNS_PER_PAGE = 20
LINES_PER_PAGE = 50
STANDARDS_PER_PAGE = 50


def _page(request: HttpRequest, queryset, per_page: int):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


@permission_required("benefits.view_paymentrun", raise_exception=True)
def run_list(request: HttpRequest) -> HttpResponse:
    form = RunFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    if form.is_bound and not form.is_valid():
        messages.error(request, refused_filter_message(form))
    runs = selectors.payment_runs_list(
        request.user,
        benefit_type_code=filters.get("benefit_type") or "",
        month=filters.get("month"),
        status=filters.get("status") or "",
    )
    page = _page(request, runs, RUNS_PER_PAGE)
    totals = selectors.runs_totals_in_scope(request.user, list(page))
    return render(
        request,
        "benefits/run_list.html",
        {
            "form": form,
            "page": page,
            "rows": [(run, totals[run.pk]) for run in page],
            "partial_totals": any(not t.whole_run for t in totals.values()),
            "create_form": RunCreateForm()
            if request.user.has_perm("benefits.recalculate_paymentrun")
            else None,
        },
    )


@permission_required("benefits.view_paymentrun", raise_exception=True)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(
        selectors.with_line_bounds(
            PaymentRun.objects.select_related("benefit_type__section", "locked_by", "calculated_by")
        ),
        pk=pk,
    )
    services.payment_run_fail_stale_calculation(run)
    form = LineFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    if form.is_bound and not form.is_valid():
        messages.error(request, refused_filter_message(form))
    lines = selectors.payment_lines_list(
        request.user,
        run,
        q=filters.get("q") or "",
        line_type=filters.get("line_type") or "",
        change=filters.get("change") or "",
    )
    summary = selectors.payment_lines_summary(request.user, run)
    paginator = Paginator(lines, LINES_PER_PAGE)
    if not any(filters.get(name) for name in ("q", "line_type", "change")):
        # Unfiltered, the lines paged are the lines the summary counted: not counted twice (a district's
        # part of a city's 低保 run: ~13 ms).
        paginator.count = summary["count"]
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    return render(
        request,
        "benefits/run_detail.html",
        {
            "run": run,
            "form": form,
            "page": page,
            "summary": summary,
            "can_recalculate": services.can_recalculate(run, request.user),
            "lock_offer": services.lock_offer(run, request.user),
        },
    )


def _recalculate(request: HttpRequest, benefit_type_code: str, month) -> int | None:
    """Run the recalculation task (eager in development, a Celery worker in production). The section is
    checked here too: a worker's refusal would not reach the page."""
    try:
        benefit_type = BenefitType.objects.select_related("section").filter(code=benefit_type_code).first()
        queued = None
        if benefit_type is not None:
            # The draft run exists and says it waits, so its page shows the worker's outcome, failure too.
            queued = services.payment_run_queue_recalculation(
                benefit_type=benefit_type, month=month, actor=request.user
            )
        result = tasks.recalculate_run.delay(benefit_type_code, month.isoformat(), request.user.pk)
        if not result.ready():
            messages.info(request, "已提交后台计算任务，计算结果或失败原因将显示在本页，请稍后刷新。")
            return queued.pk if queued else None
        summary = result.get()
    except BenefitsError as error:
        messages.error(request, str(error))
        return None
    # The actor's view of the run: the lines in their data scope (the task's summary is run-wide).
    run = selectors.with_line_bounds(PaymentRun.objects.filter(pk=summary["run_id"])).first()
    totals = selectors.runs_totals_in_scope(request.user, [run])[run.pk]
    messages.success(
        request,
        f"计算完成：{'' if totals.whole_run else '您数据范围内'}发放 {totals.line_count} 笔，"
        f"合计 {money(totals.total_amount)}（其中补发/扣回净额 {money(totals.adjustment_total)}）。",
    )
    return summary["run_id"]


def _require_section(run: PaymentRun, user, *, lock: bool = False) -> None:
    """A run of another section's benefit type is refused with the reason (403 page); so is locking a run
    that holds lines outside the user's data scope."""
    refusal = services.run_section_refusal(run.benefit_type, user, lock=lock)
    if refusal:
        raise SectionRoleRequired(refusal)
    if lock:
        refusal = services.run_scope_refusal(run, user)
        if refusal:
            raise RunOutsideScope(refusal)


@require_POST
@permission_required("benefits.recalculate_paymentrun", raise_exception=True)
def run_recalculate(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(PaymentRun.objects.select_related("benefit_type__section"), pk=pk)
    _require_section(run, request.user)
    if run.kind != PaymentRun.Kind.MONTHLY:
        messages.error(request, "一次性发放批次不能按月重新计算。")
    else:
        _recalculate(request, run.benefit_type.code, run.month)
    return redirect("benefits:run_detail", pk=run.pk)


@require_POST
@permission_required("benefits.recalculate_paymentrun", raise_exception=True)
@once_per_form
def run_create(request: HttpRequest) -> HttpResponse:
    form = RunCreateForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("benefits:run_list")
    run_id = _recalculate(request, form.cleaned_data["benefit_type"], form.cleaned_data["month"])
    return redirect("benefits:run_detail", pk=run_id) if run_id else redirect("benefits:run_list")


@require_http_methods(["GET", "POST"])
@permission_required("benefits.lock_paymentrun", raise_exception=True)
def run_lock(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(
        selectors.with_line_bounds(PaymentRun.objects.select_related("benefit_type__section")), pk=pk
    )
    _require_section(run, request.user, lock=True)
    if request.method == "POST":
        try:
            services.payment_run_lock(run=run, actor=request.user)
        except BenefitsError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"{run}发放批次已锁定，此后不再变动。")
        return redirect("benefits:run_detail", pk=run.pk)
    return render(
        request,
        "benefits/run_lock_confirm.html",
        {"run": run, "can_lock": services.can_lock(run, request.user)},
    )


@permission_required("benefits.view_paymentrun", raise_exception=True)
def line_detail(request: HttpRequest, pk: int) -> HttpResponse:
    line = get_object_or_404(
        PaymentLine.objects.visible_to(request.user).select_related(
            "run", "run__benefit_type", "household", "household__head", "person", "entitlement"
        ),
        pk=pk,
    )
    selectors.restore_recomputed([line])
    return render(request, "benefits/line_detail.html", {"line": line, "run": line.run})


@permission_required("benefits.view_paymentrun", raise_exception=True)
def line_explanation(request: HttpRequest, pk: int) -> HttpResponse:
    """A line's 计算过程 as a fragment, loaded when its row is opened on the run's page (htmx): the page of
    50 lines no longer renders 50 explanations nobody opened (issue 14: most of the page's time)."""
    line = get_object_or_404(
        PaymentLine.objects.visible_to(request.user).only("pk", "run_id", "entitlement_id", "explanation"),
        pk=pk,
    )
    selectors.restore_recomputed([line])  # a 补发/扣回 line's recomputed month, in full
    return render(request, "benefits/_line_explanation.html", {"line": line})


@permission_required("benefits.view_standard", raise_exception=True)
def standard_list(request: HttpRequest) -> HttpResponse:
    form = StandardFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    today = timezone.localdate()
    standards = selectors.standards_list(
        benefit_type_code=filters.get("benefit_type") or "", state=filters.get("state") or "", today=today
    )
    return render(
        request,
        "benefits/standard_list.html",
        {"form": form, "page": _page(request, standards, STANDARDS_PER_PAGE), "today": today},
    )


def _standard_types_for(user):
    """The benefit types whose standards `user` may change (科长 of the type's section)."""
    from .standards import standard_section_refusal

    types = BenefitType.objects.select_related("section").order_by("sort_order", "code")
    return BenefitType.objects.filter(pk__in=[t.pk for t in types if not standard_section_refusal(t, user)])


@require_http_methods(["GET", "POST"])
@permission_required("benefits.add_standard", raise_exception=True)
@once_per_form
def standard_change(request: HttpRequest) -> HttpResponse:
    """调整标准 (提标): the section's 科长 enters a new amount from a date; the old one ends the day before."""
    from core.form_pages import apply_service_errors

    from .standards import standard_change as change

    types = _standard_types_for(request.user)
    if not types.exists():
        raise SectionRoleRequired("您不是任何业务科室的科长，不能调整待遇标准")
    form = StandardChangeForm(request.POST or None, benefit_types=types)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            standard = change(actor=request.user, **data)
        except SectionRoleRequired as exc:
            form.add_error("benefit_type", str(exc))
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(
                request,
                f"已调整{standard.benefit_type.name}标准：自{standard.effective_from:%Y年%m月%d日}起为{standard.amount}"
                f"（{standard.get_unit_display()}）；已锁定月份的差额在下次计算时补发或扣回",
            )
            return redirect("benefits:standard_list")
    return render(
        request,
        "registry/form_page.html",
        {
            "form": form,
            "title": "调整待遇标准",
            "crumbs": [("待遇标准", reverse("benefits:standard_list"))],
            "cancel_url": reverse("benefits:standard_list"),
            "submit_label": "保存新标准",
        },
        status=400 if form.is_bound and form.errors else 200,
    )
