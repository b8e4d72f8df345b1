"""Thin views of 低保 dynamic management: parse, call a selector or a service, render.

Permission first (403), then scope: a review outside the user's region is a 404, like a missing one."""

from __future__ import annotations

import io
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.registry.forms import IncomeForm, apply_service_errors
from core.workflow.services import TransitionError, available_transitions

from ..models import DibaoReview
from . import selectors, services
from .case_types import ReviewStatus
from .forms import ReviewDecisionForm, ReviewFilterForm

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 20000
TRANSITIONS = {"submit", "confirm", "send_back"}


def _perm(name: str):
    def decorator(view):
        return login_required(permission_required(name, raise_exception=True)(view))

    return decorator


def _review(request: HttpRequest, pk: int) -> DibaoReview:
    try:
        return selectors.review_get(request.user, pk)
    except DibaoReview.DoesNotExist:
        raise Http404("复核不存在") from None


def _crumbs(review: DibaoReview | None = None) -> list[tuple[str, str]]:
    crumbs = [("低保动态复核", reverse("assistance:review_list"))]
    if review is not None:
        crumbs.append((review.case.number, reverse("assistance:review_detail", args=[review.pk])))
    return crumbs


@require_http_methods(["GET"])
@_perm("workflow.view_case")
def review_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = ReviewFilterForm(request.GET or None, user=request.user)
    params = form.params() if request.GET else {}
    params["sort"] = request.GET.get("sort", "")
    reviews = selectors.review_list(request.user, params, today=today)
    if request.GET.get("export") == "xlsx":
        return _export(reviews)
    page = Paginator(reviews, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "assistance/review/review_list.html", {"form": form, "page": page, "today": today})


def _export(reviews) -> HttpResponse:
    """The current filter of the 复核台账 as .xlsx (openpyxl write-only; scope already applied)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("低保动态复核台账")
    ws.append(
        [
            "案件编号",
            "户主",
            "户编号",
            "所属社区",
            "复核周期",
            "应复核日期",
            "状态",
            "复核结论",
            "原月保障金额（元）",
            "新月保障金额（元）",
            "变更起始月份",
            "渐退期（月）",
            "理由",
        ]
    )
    for r in reviews[:EXPORT_MAX_ROWS]:
        case = r.case
        ws.append(
            [
                case.number,
                case.applicant_name,
                r.household.number,
                case.region.name,
                r.get_frequency_display(),
                r.due_on,
                case.status_label,
                r.get_outcome_display() if r.outcome else "",
                r.previous_amount,
                r.new_amount,
                f"{r.effective_month.year}年{r.effective_month.month}月" if r.effective_month else "",
                r.taper_months,
                r.reasons,
            ]
        )
    buffer = io.BytesIO()
    wb.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    quoted = quote(f"低保动态复核台账-{stamp}.xlsx")
    response["Content-Disposition"] = (
        f"attachment; filename=\"dibao-review-{stamp}.xlsx\"; filename*=UTF-8''{quoted}"
    )
    return response


@require_http_methods(["GET"])
@_perm("workflow.view_case")
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        detail = selectors.review_detail(request.user, pk)
    except DibaoReview.DoesNotExist:
        raise Http404("复核不存在") from None
    review = detail.review
    case = review.case
    user = request.user
    can_record = case.status == ReviewStatus.REVIEWING and user.has_perm("workflow.add_case")
    return render(
        request,
        "assistance/review/review_detail.html",
        {
            "d": detail,
            "review": review,
            "case": case,
            "transitions": available_transitions(case, user) if case.is_open else [],
            "can_record": can_record,
            "can_add_income": can_record and user.has_perm("registry.add_incomerecord"),
            "today": timezone.localdate(),
            "crumbs": _crumbs(),
        },
    )


@require_http_methods(["GET", "POST"])
@_perm("workflow.add_case")
def review_income_add(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review(request, pk)
    form = IncomeForm(request.POST or None, household=review.household)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.dibao_review_income_add(
                review=review,
                actor=request.user,
                kind=data["kind"],
                monthly_amount=data["monthly_amount"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                person=data["person"],
                note=data["note"],
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        except TransitionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "收入已登记，请重新核算并登记复核结论")
            return redirect("assistance:review_detail", pk=review.pk)
    return render(
        request,
        "assistance/form_page.html",
        {
            "form": form,
            "title": f"登记收入 · {review.case.number}",
            "crumbs": _crumbs(review),
            "cancel_url": reverse("assistance:review_detail", args=[review.pk]),
            "submit_label": "保存收入",
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@_perm("workflow.add_case")
def review_decide(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review(request, pk)
    initial = {"findings": review.findings, "outcome": review.outcome, "reasons": review.reasons}
    form = ReviewDecisionForm(
        request.POST or None,
        initial=initial,
        max_taper_months=services.max_taper_months(timezone.localdate()),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.dibao_review_decide(
                review=review,
                actor=request.user,
                findings=data["findings"],
                outcome=data["outcome"],
                reasons=data["reasons"],
                taper_months=data["taper_months"],
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        except TransitionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "复核结论已登记，请提交科长确认")
            return redirect("assistance:review_detail", pk=review.pk)
    return render(
        request,
        "assistance/form_page.html",
        {
            "form": form,
            "title": f"登记复核结论 · {review.case.number}",
            "crumbs": _crumbs(review),
            "cancel_url": reverse("assistance:review_detail", args=[review.pk]),
            "submit_label": "保存复核结论",
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@require_POST
@_perm("workflow.view_case")
def review_transition(request: HttpRequest, pk: int) -> HttpResponse:
    """提交科长确认 / 确认复核结论 / 退回重新复核 (the case engine checks permission and maker-checker)."""
    review = _review(request, pk)
    name = request.POST.get("name", "")
    comment = request.POST.get("comment", "")
    try:
        if name == "submit":
            services.dibao_review_submit(review=review, actor=request.user, comment=comment)
        elif name == "confirm":
            services.dibao_review_confirm(review=review, actor=request.user, comment=comment)
        elif name == "send_back":
            services.dibao_review_send_back(review=review, actor=request.user, reason=comment)
        else:
            raise TransitionError("请求无效，请重试")
    except (TransitionError, ValidationError) as exc:
        message = exc.message if isinstance(exc, TransitionError) else "；".join(exc.messages)
        messages.error(request, message)
    else:
        review.case.refresh_from_db()
        messages.success(request, f"已办理：{review.case.number} 现为“{review.case.status_label}”")
    return redirect("assistance:review_detail", pk=review.pk)
