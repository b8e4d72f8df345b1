"""Thin views of the 特困 flow: parse, call a selector or a service, render.

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
from core.registry.forms import apply_service_errors
from core.registry.models import Household, Person
from core.workflow.services import TransitionError, available_transitions

from .. import rules
from ..models import TekunApplication
from . import selectors, services
from .case_types import TekunStatus
from .forms import SELF_CARE_FIELD_PREFIX, TekunApplicationForm, TekunFilterForm, TekunInvestigationForm

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 20000
PICK_LIMIT = 20
# Buttons of the action card: the 公示 moves have their own forms on the page.
NOTICE_TRANSITIONS = ("publicize", "reinvestigate", "notice_passed")


def _perm(name: str):
    def decorator(view):
        return login_required(permission_required(name, raise_exception=True)(view))

    return decorator


def _application(request: HttpRequest, pk: int) -> TekunApplication:
    try:
        return selectors.tekun_application_get(request.user, pk)
    except TekunApplication.DoesNotExist:
        raise Http404("申请不存在") from None


def _crumbs(application: TekunApplication | None = None) -> list[tuple[str, str]]:
    crumbs = [("特困人员", reverse("assistance:tekun_list"))]
    if application is not None:
        crumbs.append((application.case.number, reverse("assistance:tekun_detail", args=[application.pk])))
    return crumbs


@require_http_methods(["GET"])
@_perm("workflow.view_case")
def tekun_list(request: HttpRequest) -> HttpResponse:
    form = TekunFilterForm(request.GET or None, user=request.user)
    params = form.params() if request.GET else {}
    params["sort"] = request.GET.get("sort", "")
    applications = selectors.tekun_application_list(request.user, params)
    if request.GET.get("export") == "xlsx":
        return _export(applications)
    page = Paginator(applications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assistance/tekun/list.html",
        {"form": form, "page": page, "today": timezone.localdate()},
    )


def _export(applications) -> HttpResponse:
    """The current filter of the 台账 as .xlsx (openpyxl write-only; scope already applied)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("特困人员台账")
    ws.append(
        [
            "案件编号",
            "申请人",
            "户编号",
            "所属社区",
            "未成年人",
            "申请日期",
            "受理日期",
            "状态",
            "本环节时限",
            "无劳动能力情形",
            "自理能力",
            "供养方式",
            "供养机构",
            "起始发放月份",
        ]
    )
    for a in applications[:EXPORT_MAX_ROWS]:
        case = a.case
        ws.append(
            [
                case.number,
                a.person.name,
                a.household.number,
                case.region.name,
                "是" if a.is_minor else "",
                a.applied_on,
                case.accepted_on,
                case.status_label,
                case.due_date if case.is_open else None,
                a.unable_to_work_reason,
                a.self_care_tier,
                a.get_support_mode_display() if a.support_mode else "",
                a.institution_name,
                f"{a.start_month.year}年{a.start_month.month}月" if a.start_month else "",
            ]
        )
    buffer = io.BytesIO()
    wb.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    quoted = quote(f"特困人员台账-{stamp}.xlsx")
    response["Content-Disposition"] = (
        f"attachment; filename=\"tekun-{stamp}.xlsx\"; filename*=UTF-8''{quoted}"
    )
    return response


@require_http_methods(["GET", "POST"])
@_perm("workflow.add_case")
def tekun_create(request: HttpRequest) -> HttpResponse:
    """申请特困: from a person (?person=) or a household (?household=, choose the member)."""
    person = None
    person_pk = request.GET.get("person", "")
    household_pk = request.GET.get("household", "")
    visible = Household.objects.visible_to(request.user)
    if person_pk.isdigit():
        person = get_object_or_404(Person.objects.filter(household__in=visible), pk=int(person_pk))
        household = Household.objects.select_related("region", "head").get(pk=person.household_id)
    elif household_pk.isdigit():
        household = get_object_or_404(visible.select_related("region", "head"), pk=int(household_pk))
    else:
        return _household_pick(request)
    form = TekunApplicationForm(request.POST or None, household=household, person=person)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            application = services.tekun_application_create(
                person=data["person"],
                actor=request.user,
                promise_signed=data["promise_signed"],
                authorisation_signed=data["authorisation_signed"],
                is_orphan=data["is_orphan"],
                applied_on=data["applied_on"],
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, f"已登记特困人员申请 {application.case.number}，请办理受理")
            return redirect("assistance:tekun_detail", pk=application.pk)
    return render(
        request,
        "assistance/tekun/form.html",
        {
            "form": form,
            "household": household,
            "title": f"申请特困人员救助供养 · {household.number}",
            "crumbs": _crumbs(),
            "cancel_url": reverse("registry:household_detail", args=[household.pk]),
            "submit_label": "登记申请",
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _household_pick(request: HttpRequest) -> HttpResponse:
    q = (request.GET.get("q") or "").strip()
    households = household_search(request.user, q, PICK_LIMIT)
    return render(
        request,
        "assistance/tekun/household_pick.html",
        {
            "q": q,
            "households": households,
            "crumbs": _crumbs(),
            "limit": PICK_LIMIT,
            "pick_title": "申请特困人员救助供养",
        },
    )


@require_http_methods(["GET"])
@_perm("workflow.view_case")
def tekun_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        detail = selectors.tekun_application_detail(request.user, pk)
    except TekunApplication.DoesNotExist:
        raise Http404("申请不存在") from None
    application = detail.application
    case = application.case
    user = request.user
    can_notice = case.is_open and user.has_perm("workflow.add_publicnotice") and not application.is_minor
    transitions = available_transitions(case, user) if case.is_open else []
    return render(
        request,
        "assistance/tekun/detail.html",
        {
            "d": detail,
            "application": application,
            "case": case,
            "timeline": case.transitions.select_related("actor").order_by("at", "id"),
            "transitions": [t for t in transitions if t.name not in NOTICE_TRANSITIONS],
            "can_investigate": case.status == TekunStatus.INVESTIGATION
            and user.has_perm("workflow.add_case"),
            "can_notice_start": can_notice
            and case.status in (TekunStatus.INVESTIGATION, TekunStatus.PUBLICITY)
            and not detail.investigation_problem,
            "can_notice_act": can_notice and case.status == TekunStatus.PUBLICITY,
            "today": timezone.localdate(),
            "crumbs": _crumbs(),
        },
    )


def _investigation_initial(application: TekunApplication) -> dict:
    today = timezone.localdate()
    initial = {
        "investigated_on": application.investigated_on or today,
        "unable_to_work_reason": application.unable_to_work_reason
        or services.suggested_unable_to_work_reason(application.person, today),
        "support_mode": application.support_mode,
        "institution_name": application.institution_name,
        "findings": application.investigation_findings,
    }
    for key, value in (
        ("no_income_source", application.no_income_source),
        ("no_supporter", application.no_supporter),
    ):
        if value is not None:
            initial[key] = "1" if value else "0"
    for key in rules.SELF_CARE_ITEMS:
        value = (application.self_care_items or {}).get(key)
        if value is not None:
            initial[f"{SELF_CARE_FIELD_PREFIX}{key}"] = "1" if value else "0"
    return initial


@require_http_methods(["GET", "POST"])
@_perm("workflow.add_case")
def tekun_investigation(request: HttpRequest, pk: int) -> HttpResponse:
    application = _application(request, pk)
    form = TekunInvestigationForm(request.POST or None, initial=_investigation_initial(application))
    if request.method == "POST" and form.is_valid():
        try:
            result = services.tekun_investigation_record(
                application=application, actor=request.user, **form.service_kwargs()
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        except TransitionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"调查核实结果已登记，生活自理能力评估为“{result.tier}”")
            for warning in result.warnings:
                messages.warning(request, warning)
            return redirect("assistance:tekun_detail", pk=application.pk)
    return render(
        request,
        "assistance/tekun/investigation_form.html",
        {
            "form": form,
            "application": application,
            "title": f"登记调查核实结果 · {application.case.number}",
            "crumbs": _crumbs(application),
            "cancel_url": reverse("assistance:tekun_detail", args=[application.pk]),
            "submit_label": "保存调查结果",
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@require_POST
@_perm("workflow.add_publicnotice")
def tekun_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """公示 actions of the application page: start, object (back to investigation), finish."""
    application = _application(request, pk)
    notice_action(
        request,
        application=application,
        start=services.tekun_notice_start,
        object_=services.tekun_notice_object,
        finish=services.tekun_notice_finish,
        object_message="已登记公示异议，案件退回调查核实",
        finish_message="公示期满无异议，已报请科长确认",
    )
    return redirect("assistance:tekun_detail", pk=application.pk)


@require_POST
@_perm("workflow.view_case")
def tekun_transition(request: HttpRequest, pk: int) -> HttpResponse:
    """受理, 报请确认, 确认批准, 不予批准, 退回, 撤回 — the case engine checks permission and maker-checker."""
    application = _application(request, pk)
    try:
        case = services.tekun_transition(
            application=application,
            name=request.POST.get("name", ""),
            actor=request.user,
            comment=request.POST.get("comment", ""),
        )
    except TransitionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已办理：{case.number} 现为“{case.status_label}”")
    return redirect("assistance:tekun_detail", pk=application.pk)
