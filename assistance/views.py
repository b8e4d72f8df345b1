"""Thin views of the 低保 application flow: parse, call a selector or a service, render.

Permission first (403), then scope: a record outside the user's region is a 404, like a missing one."""

from __future__ import annotations

import io
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from assistance.common import household_search, notice_action
from core.benefits.models import Entitlement
from core.registry import services as registry_services
from core.registry.forms import AttachmentForm, apply_service_errors
from core.registry.models import Household
from core.workflow.services import TransitionError, available_transitions

from . import selectors, services
from .case_types import DibaoStatus
from .forms import DibaoApplicationForm, DibaoFilterForm, InvestigationForm
from .models import AssistanceApplication

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 20000
HOUSEHOLD_PICK_LIMIT = 20


def _perm(name: str):
    def decorator(view):
        return login_required(permission_required(name, raise_exception=True)(view))

    return decorator


def _application(request: HttpRequest, pk: int) -> AssistanceApplication:
    try:
        return selectors.dibao_application_get(request.user, pk)
    except AssistanceApplication.DoesNotExist:
        raise Http404("申请不存在") from None


def _crumbs(application: AssistanceApplication | None = None) -> list[tuple[str, str]]:
    crumbs = [("低保申请", reverse("assistance:dibao_list"))]
    if application is not None:
        crumbs.append((application.case.number, reverse("assistance:dibao_detail", args=[application.pk])))
    return crumbs


@require_http_methods(["GET"])
@_perm("workflow.view_case")
def dibao_list(request: HttpRequest) -> HttpResponse:
    form = DibaoFilterForm(request.GET or None, user=request.user)
    params = form.params() if request.GET else {}
    params["sort"] = request.GET.get("sort", "")
    applications = selectors.dibao_application_list(request.user, params)
    if request.GET.get("export") == "xlsx":
        return _export_applications(applications)
    page = Paginator(applications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assistance/dibao_list.html",
        {"form": form, "page": page, "today": timezone.localdate(), "tab": "applications"},
    )


def _export_applications(applications) -> HttpResponse:
    """The current filter of the 台账 as .xlsx (openpyxl write-only; scope already applied)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("低保申请台账")
    ws.append(
        [
            "案件编号",
            "申请人",
            "户编号",
            "所属社区",
            "救助类别",
            "申请日期",
            "受理日期",
            "状态",
            "本环节时限",
            "近亲属备案",
            "月保障金额（元）",
            "起始发放月份",
        ]
    )
    for a in applications[:EXPORT_MAX_ROWS]:
        case = a.case
        decision = getattr(a, "decision", None)
        ws.append(
            [
                case.number,
                case.applicant_name,
                a.household.number,
                case.region.name,
                "、".join(a.category_labels),
                a.applied_on,
                case.accepted_on,
                case.status_label,
                case.due_date if case.is_open else None,
                "是" if a.staff_relative else "",
                decision.monthly_amount if decision is not None else None,
                f"{decision.start_month.year}年{decision.start_month.month}月"
                if decision is not None and decision.start_month
                else "",
            ]
        )
    buffer = io.BytesIO()
    wb.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    quoted = quote(f"低保申请台账-{stamp}.xlsx")
    response["Content-Disposition"] = (
        f"attachment; filename=\"dibao-{stamp}.xlsx\"; filename*=UTF-8''{quoted}"
    )
    return response


@require_http_methods(["GET"])
@_perm("benefits.view_entitlement")
def dibao_entitlements(request: HttpRequest) -> HttpResponse:
    status_choices = [("", "全部状态"), *Entitlement.Status.choices]
    form = DibaoFilterForm(request.GET or None, user=request.user, status_choices=status_choices)
    params = form.params() if request.GET else {}
    page = Paginator(selectors.dibao_entitlement_list(request.user, params), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request, "assistance/dibao_entitlements.html", {"form": form, "page": page, "tab": "entitlements"}
    )


@require_http_methods(["GET", "POST"])
@_perm("workflow.add_case")
def dibao_create(request: HttpRequest) -> HttpResponse:
    household_pk = request.GET.get("household", "")
    if not household_pk.isdigit():
        return _household_pick(request)
    household = get_object_or_404(
        Household.objects.visible_to(request.user).select_related("region", "head"), pk=int(household_pk)
    )
    form = DibaoApplicationForm(request.POST or None, household=household)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            application = services.dibao_application_create(
                household=household,
                actor=request.user,
                promise_signed=data["promise_signed"],
                authorisation_signed=data["authorisation_signed"],
                staff_relative=data["staff_relative"],
                categories=data["categories"],
                members=list(data["members"]),
                applied_on=data["applied_on"],
                poverty_cause=data["poverty_cause"],
                notes=data["notes"],
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, f"已登记低保申请 {application.case.number}，请办理受理")
            return redirect("assistance:dibao_detail", pk=application.pk)
    return render(
        request,
        "assistance/dibao_form.html",
        {
            "form": form,
            "household": household,
            "title": f"新增低保申请 · {household.number}",
            "crumbs": _crumbs(),
            "cancel_url": reverse("registry:household_detail", args=[household.pk]),
            "submit_label": "登记申请",
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _household_pick(request: HttpRequest) -> HttpResponse:
    """新增申请 without a household: find the household first (scoped)."""
    q = (request.GET.get("q") or "").strip()
    households = household_search(request.user, q, HOUSEHOLD_PICK_LIMIT)
    return render(
        request,
        "assistance/household_pick.html",
        {"q": q, "households": households, "crumbs": _crumbs(), "limit": HOUSEHOLD_PICK_LIMIT},
    )


@require_http_methods(["GET"])
@_perm("workflow.view_case")
def dibao_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        detail = selectors.dibao_application_detail(request.user, pk)
    except AssistanceApplication.DoesNotExist:
        raise Http404("申请不存在") from None
    case = detail.application.case
    user = request.user
    can_notice = case.is_open and user.has_perm("workflow.add_publicnotice")
    return render(
        request,
        "assistance/dibao_detail.html",
        {
            "d": detail,
            "application": detail.application,
            "case": case,
            "timeline": case.transitions.select_related("actor").order_by("at", "id"),
            "transitions": available_transitions(case, user) if case.is_open else [],
            "can_investigate": case.status == DibaoStatus.INVESTIGATION
            and user.has_perm("workflow.add_case"),
            "can_notice_start": can_notice
            and case.status in (DibaoStatus.INVESTIGATION, DibaoStatus.PUBLICITY)
            and not detail.investigation_problem,
            "can_notice_act": can_notice and case.status == DibaoStatus.PUBLICITY,
            "today": timezone.localdate(),
            "crumbs": _crumbs(),
        },
    )


@require_http_methods(["GET", "POST"])
@_perm("workflow.add_case")
def investigation_add(request: HttpRequest, pk: int) -> HttpResponse:
    application = _application(request, pk)
    form = InvestigationForm(request.POST or None, application=application)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.investigation_record(
                application=application,
                actor=request.user,
                visit_date=data["visit_date"],
                visitors=list(data["visitors"]),
                findings=data["findings"],
                economic_check_result=data["economic_check_result"],
                economic_check_note=data["economic_check_note"],
                district_visit=data["district_visit"],
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        except TransitionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "入户调查已登记")
            return redirect("assistance:dibao_detail", pk=application.pk)
    return render(
        request,
        "assistance/investigation_form.html",
        {
            "form": form,
            "application": application,
            "title": f"登记入户调查 · {application.case.number}",
            "crumbs": _crumbs(application),
            "cancel_url": reverse("assistance:dibao_detail", args=[application.pk]),
            "submit_label": "保存调查记录",
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@require_POST
@_perm("workflow.add_publicnotice")
def dibao_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """公示 actions of the application page: start (提交公示并发布), object (登记异议，退回调查), finish."""
    application = _application(request, pk)
    notice_action(
        request,
        application=application,
        start=services.dibao_notice_start,
        object_=services.dibao_notice_object,
        finish=services.dibao_notice_finish,
        object_message="已登记公示异议，案件退回入户调查核实",
        finish_message="公示期满无异议，已报街道审核",
    )
    return redirect("assistance:dibao_detail", pk=application.pk)


@require_http_methods(["GET", "POST"])
@_perm("registry.add_attachment")
def dibao_attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """上传申请材料 (申请书, signed 告知承诺书/授权书, proofs) to the case."""
    application = _application(request, pk)
    form = AttachmentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            registry_services.attachment_add(
                target=application.case,
                doc_type=form.cleaned_data["doc_type"],
                uploaded_file=form.cleaned_data["file"],
                actor=request.user,
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, "材料已上传")
            return redirect(reverse("assistance:dibao_detail", args=[application.pk]) + "#attachments")
    return render(
        request,
        "registry/form_page.html",
        {
            "form": form,
            "title": f"上传申请材料 · {application.case.number}",
            "crumbs": _crumbs(application),
            "cancel_url": reverse("assistance:dibao_detail", args=[application.pk]),
            "multipart": True,
            "submit_label": "上传",
        },
        status=400 if form.is_bound and form.errors else 200,
    )
