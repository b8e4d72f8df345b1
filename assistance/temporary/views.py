"""Thin views of the 临时救助 flow: parse, call a selector or a service, render.

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

from assistance.common import household_search
from core.registry.forms import apply_service_errors
from core.registry.models import Household, Person
from core.workflow.services import TransitionError, available_transitions

from ..models import TempAssistanceCase
from . import selectors, services
from .case_types import TempStatus
from .forms import TempAdvanceForm, TempCaseForm, TempFilterForm, TempProposalForm

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 20000
PICK_LIMIT = 20


def _perm(name: str):
    def decorator(view):
        return login_required(permission_required(name, raise_exception=True)(view))

    return decorator


def _temp(request: HttpRequest, pk: int) -> TempAssistanceCase:
    try:
        return selectors.temp_case_get(request.user, pk)
    except TempAssistanceCase.DoesNotExist:
        raise Http404("案件不存在") from None


def _crumbs(temp: TempAssistanceCase | None = None) -> list[tuple[str, str]]:
    crumbs = [("临时救助", reverse("assistance:temp_list"))]
    if temp is not None:
        crumbs.append((temp.case.number, reverse("assistance:temp_detail", args=[temp.pk])))
    return crumbs


@require_http_methods(["GET"])
@_perm("workflow.view_case")
def temp_list(request: HttpRequest) -> HttpResponse:
    form = TempFilterForm(request.GET or None, user=request.user)
    params = form.params() if request.GET else {}
    params["sort"] = request.GET.get("sort", "")
    cases = selectors.temp_case_list(request.user, params)
    if request.GET.get("export") == "xlsx":
        return _export(cases)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "assistance/temporary/list.html", {"form": form, "page": page, "today": timezone.localdate()}
    )


def _export(cases) -> HttpResponse:
    """The current filter of the 台账 as .xlsx (openpyxl write-only; scope already applied)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("临时救助台账")
    ws.append(
        [
            "案件编号",
            "救助对象",
            "户编号",
            "所属社区",
            "救助类型",
            "困难原因",
            "申请日期",
            "受理日期",
            "状态",
            "审批层级",
            "拟救助金额（元）",
            "先行救助金额（元）",
            "批准金额（元）",
            "同年同因前次救助",
        ]
    )
    for t in cases.select_related("earlier_case__case")[:EXPORT_MAX_ROWS]:
        case = t.case
        ws.append(
            [
                case.number,
                t.person.name,
                t.household.number,
                case.region.name,
                t.get_kind_display(),
                t.get_cause_display(),
                t.applied_on,
                case.accepted_on,
                case.status_label,
                t.get_approval_level_display() if t.approval_level else "",
                t.proposed_amount,
                t.advance_amount if t.is_advance else None,
                t.approved_amount,
                t.earlier_case.case.number if t.earlier_case_id else "",
            ]
        )
    buffer = io.BytesIO()
    wb.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    quoted = quote(f"临时救助台账-{stamp}.xlsx")
    response["Content-Disposition"] = f"attachment; filename=\"temp-{stamp}.xlsx\"; filename*=UTF-8''{quoted}"
    return response


@require_http_methods(["GET", "POST"])
@_perm("workflow.add_case")
def temp_create(request: HttpRequest) -> HttpResponse:
    """临时救助 from a person (?person=) or a household (?household=, choose the member)."""
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
    form = TempCaseForm(request.POST or None, household=household, person=person)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            temp = services.temp_case_create(
                person=data["person"],
                actor=request.user,
                kind=data["kind"],
                cause=data["cause"],
                cause_detail=data["cause_detail"],
                applied_on=data["applied_on"],
                is_advance=data["is_advance"],
                advance_given_on=data["advance_given_on"],
                advance_amount=data["advance_amount"],
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            if temp.earlier_case_id:
                messages.warning(request, f"已登记 {temp.case.number}：{temp.reasons}")
            else:
                messages.success(request, f"已登记临时救助申请 {temp.case.number}，请办理受理")
            return redirect("assistance:temp_detail", pk=temp.pk)
    return render(
        request,
        "assistance/temporary/form.html",
        {
            "form": form,
            "household": household,
            "title": f"临时救助申请 · {household.number}",
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
            "pick_title": "临时救助申请",
        },
    )


@require_http_methods(["GET"])
@_perm("workflow.view_case")
def temp_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        detail = selectors.temp_case_detail(request.user, pk)
    except TempAssistanceCase.DoesNotExist:
        raise Http404("案件不存在") from None
    temp = detail.temp
    case = temp.case
    user = request.user
    can_enter = case.is_open and user.has_perm("workflow.add_case")
    return render(
        request,
        "assistance/temporary/detail.html",
        {
            "d": detail,
            "temp": temp,
            "case": case,
            "timeline": case.transitions.select_related("actor").order_by("at", "id"),
            "transitions": available_transitions(case, user) if case.is_open else [],
            "can_propose": can_enter and case.status == TempStatus.INVESTIGATION,
            "can_advance": can_enter and not temp.is_advance,
            "today": timezone.localdate(),
            "crumbs": _crumbs(),
        },
    )


def _form_page(request, temp, form, title: str, submit_label: str, status: int = 200) -> HttpResponse:
    return render(
        request,
        "assistance/temporary/step_form.html",
        {
            "form": form,
            "temp": temp,
            "title": f"{title} · {temp.case.number}",
            "crumbs": _crumbs(temp),
            "cancel_url": reverse("assistance:temp_detail", args=[temp.pk]),
            "submit_label": submit_label,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@_perm("workflow.add_case")
def temp_proposal(request: HttpRequest, pk: int) -> HttpResponse:
    temp = _temp(request, pk)
    form = TempProposalForm(request.POST or None, initial={"standard_multiple": temp.standard_multiple})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            proposal = services.temp_proposal_record(
                temp=temp,
                actor=request.user,
                standard_multiple=data["standard_multiple"],
                findings=data["findings"],
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        except TransitionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"拟救助金额：{proposal.explanation}")
            return redirect("assistance:temp_detail", pk=temp.pk)
    return _form_page(
        request,
        temp,
        form,
        "登记调查核实情况和拟救助金额",
        "保存",
        status=400 if form.is_bound and form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@_perm("workflow.add_case")
def temp_advance(request: HttpRequest, pk: int) -> HttpResponse:
    temp = _temp(request, pk)
    form = TempAdvanceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.temp_advance_record(
                temp=temp,
                actor=request.user,
                given_on=form.cleaned_data["given_on"],
                amount=form.cleaned_data["amount"],
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        except TransitionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "先行救助已登记，请补办审批手续")
            return redirect("assistance:temp_detail", pk=temp.pk)
    return _form_page(
        request, temp, form, "登记先行救助", "保存", status=400 if form.is_bound and form.errors else 200
    )


@require_POST
@_perm("workflow.view_case")
def temp_transition(request: HttpRequest, pk: int) -> HttpResponse:
    """受理, 报批, 审批, 不予救助, 退回, 撤回 — the case engine checks permission and maker-checker."""
    temp = _temp(request, pk)
    try:
        case = services.temp_transition(
            temp=temp,
            name=request.POST.get("name", ""),
            actor=request.user,
            comment=request.POST.get("comment", ""),
        )
    except TransitionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已办理：{case.number} 现为“{case.status_label}”")
    return redirect("assistance:temp_detail", pk=temp.pk)
