"""Thin views of the 残疾人两项补贴 flow: parse, call a selector or a service, render.

Permission first (403), then scope: a record outside the user's region is a 404, like a missing one."""

from __future__ import annotations

import datetime
import io
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from assistance.common import parse_notice_start
from core.benefits.models import Entitlement
from core.benefits.months import month_start
from core.registry.choices import DisabilityCategory
from core.registry.forms import apply_service_errors
from core.registry.models import Household, Person
from core.workflow.services import TransitionError, available_transitions

from ..models import DisabilitySubsidy, DisabilitySubsidyApplication
from . import selectors, services
from .case_types import DisabilityStatus
from .forms import ComparisonForm, DisabilityApplicationForm, DisabilityFilterForm, FederationCheckForm

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 20000
PERSON_PICK_LIMIT = 20
COMPARISON_LISTS = ("stop", "living", "care")
# Moves with their own form on the application page (not the generic opinion box).
OWN_FORM_MOVES = {"federation_check", "notice_passed", "reinvestigate"}


def _perm(name: str):
    def decorator(view):
        return login_required(permission_required(name, raise_exception=True)(view))

    return decorator


def _application(request: HttpRequest, pk: int) -> DisabilitySubsidyApplication:
    try:
        return selectors.disability_application_get(request.user, pk)
    except DisabilitySubsidyApplication.DoesNotExist:
        raise Http404("申请不存在") from None


def _crumbs() -> list[tuple[str, str]]:
    return [("两项补贴", reverse("assistance:disability_list"))]


def _cn_month(month: datetime.date | None) -> str:
    return f"{month.year}年{month.month}月" if month else ""


@require_http_methods(["GET"])
@_perm("workflow.view_case")
def disability_list(request: HttpRequest) -> HttpResponse:
    form = DisabilityFilterForm(request.GET or None, user=request.user)
    params = form.params() if request.GET else {}
    params["sort"] = request.GET.get("sort", "")
    applications = selectors.disability_application_list(request.user, params)
    if request.GET.get("export") == "xlsx":
        return _export(applications)
    page = Paginator(applications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assistance/disability/list.html",
        {"form": form, "page": page, "today": timezone.localdate()},
    )


def _export(applications) -> HttpResponse:
    """The current filter of the 台账 as .xlsx (openpyxl write-only; scope already applied)."""
    from openpyxl import Workbook

    labels = dict(DisabilitySubsidy.choices)
    categories = dict(DisabilityCategory.choices)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("两项补贴台账")
    ws.append(
        [
            "案件编号",
            "申请人",
            "户编号",
            "所属社区",
            "申请补贴",
            "残疾人证号",
            "残疾类别",
            "残疾等级",
            "申请日期",
            "状态",
            "审批结果",
            "起始发放月份",
        ]
    )
    for a in applications[:EXPORT_MAX_ROWS]:
        case = a.case
        start = None
        if a.living_entitlement_id or a.care_entitlement_id:
            start = month_start(a.applied_on)
        ws.append(
            [
                case.number,
                a.person.name,
                a.household.number,
                case.region.name,
                "、".join(labels.get(s, s) for s in a.subsidies),
                a.cert_no,
                categories.get(a.disability_category, a.disability_category),
                f"{a.disability_grade}级",
                a.applied_on,
                case.status_label,
                {True: "批准", False: "不予批准"}.get(a.approved, ""),
                _cn_month(start),
            ]
        )
    buffer = io.BytesIO()
    wb.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    quoted = quote(f"残疾人两项补贴台账-{stamp}.xlsx")
    response["Content-Disposition"] = (
        f"attachment; filename=\"disability-{stamp}.xlsx\"; filename*=UTF-8''{quoted}"
    )
    return response


@require_http_methods(["GET", "POST"])
@_perm("workflow.add_case")
def disability_create(request: HttpRequest) -> HttpResponse:
    person_pk = request.GET.get("person", "")
    if not person_pk.isdigit():
        return _person_pick(request)
    person = get_object_or_404(
        Person.objects.visible_to(request.user).select_related("household", "household__region"),
        pk=int(person_pk),
    )
    initial = {}
    subsidy = request.GET.get("subsidy", "")
    if subsidy in DisabilitySubsidy.values:
        initial["subsidies"] = [subsidy]
    form = DisabilityApplicationForm(request.POST or None, person=person, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            application = services.disability_application_create(
                person=person,
                actor=request.user,
                subsidies=data["subsidies"],
                cert_no=data["cert_no"],
                cert_generation=data["cert_generation"],
                disability_category=data["disability_category"],
                disability_grade=data["disability_grade"],
                long_term_care=data["long_term_care"],
                applied_on=data["applied_on"],
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, f"已登记两项补贴申请 {application.case.number}，请办理受理")
            return redirect("assistance:disability_detail", pk=application.pk)
    cancel = (
        reverse("registry:person_detail", args=[person.pk])
        if request.user.has_perm("registry.view_person")
        else reverse("assistance:disability_list")
    )
    return render(
        request,
        "assistance/disability/form.html",
        {
            "form": form,
            "person": person,
            "title": f"残疾人两项补贴申请 · {person.name}",
            "crumbs": _crumbs(),
            "cancel_url": cancel,
            "submit_label": "登记申请",
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _person_pick(request: HttpRequest) -> HttpResponse:
    """申请 without a person: the disabled members of a household (from the household page), or a search
    by name, ID number or certificate number — all scoped."""
    people = Person.objects.visible_to(request.user).filter(death_date__isnull=True)
    q = (request.GET.get("q") or "").strip()
    household = None
    found: list[Person] = []
    household_pk = request.GET.get("household", "")
    if household_pk.isdigit():
        household = get_object_or_404(Household.objects.visible_to(request.user), pk=int(household_pk))
        found = list(people.filter(household=household).order_by("pk"))
    elif q:
        found = list(
            people.filter(
                Q(name=q) | Q(id_number=q.upper()) | Q(disability_cert_no=q.upper()) | Q(name__startswith=q)
            )
            .select_related("household", "household__region")
            .order_by("name", "pk")[:PERSON_PICK_LIMIT]
        )
    return render(
        request,
        "assistance/disability/person_pick.html",
        {
            "q": q,
            "household": household,
            "people": found,
            "crumbs": _crumbs(),
            "limit": PERSON_PICK_LIMIT,
        },
    )


@require_http_methods(["GET"])
@_perm("workflow.view_case")
def disability_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        detail = selectors.disability_application_detail(request.user, pk)
    except DisabilitySubsidyApplication.DoesNotExist:
        raise Http404("申请不存在") from None
    application = detail.application
    case = application.case
    user = request.user
    transitions = available_transitions(case, user) if case.is_open else []
    names = {t.name for t in transitions}
    can_notice = case.is_open and user.has_perm("workflow.add_publicnotice")
    open_notice = next((n for n in detail.notices if n.closed_at is None), None)
    return render(
        request,
        "assistance/disability/detail.html",
        {
            "d": detail,
            "application": application,
            "case": case,
            "timeline": case.transitions.select_related("actor").order_by("at", "id"),
            "transitions": [t for t in transitions if t.name not in OWN_FORM_MOVES],
            "federation_form": FederationCheckForm(initial={"grade": application.disability_grade})
            if "federation_check" in names
            else None,
            "can_notice_start": can_notice
            and case.status == DisabilityStatus.PUBLICITY
            and open_notice is None,
            "can_notice_act": can_notice
            and case.status == DisabilityStatus.PUBLICITY
            and open_notice is not None,
            "subsidy_labels": dict(DisabilitySubsidy.choices),
            "start_month": month_start(application.applied_on),
            "today": timezone.localdate(),
            "crumbs": _crumbs(),
        },
    )


def _error_text(exc: ValidationError) -> str:
    return "；".join(exc.messages)


@require_POST
@_perm("workflow.view_case")
def disability_action(request: HttpRequest, pk: int) -> HttpResponse:
    """Every move of the application page; each service checks the move's own permission."""
    application = _application(request, pk)
    action = request.POST.get("action", "")
    comment = request.POST.get("comment", "")
    user = request.user
    try:
        if action == "accept":
            services.disability_application_accept(application=application, actor=user, comment=comment)
        elif action == "federation_check":
            form = FederationCheckForm(request.POST)
            if not form.is_valid():
                raise ValidationError("请选择残联核定的残疾等级")
            services.disability_federation_check(
                application=application,
                actor=user,
                grade=form.cleaned_data["grade"],
                opinion=form.cleaned_data["opinion"],
            )
        elif action == "household_check":
            services.disability_household_check(application=application, actor=user, comment=comment)
        elif action == "notice_start":
            start_date, days = parse_notice_start(request.POST)
            services.disability_notice_start(
                application=application,
                actor=user,
                start_date=start_date,
                days=days,
                place=request.POST.get("place", ""),
            )
        elif action == "notice_object":
            services.disability_notice_object(
                application=application, actor=user, objection=request.POST.get("objection", "")
            )
        elif action == "notice_finish":
            services.disability_notice_finish(application=application, actor=user, comment=comment)
        elif action == "approve":
            services.disability_approve(application=application, actor=user, comment=comment)
        elif action == "refuse":
            services.disability_refuse(application=application, actor=user, reasons=comment)
        elif action in ("send_back", "withdraw"):
            services.disability_transition(application=application, name=action, actor=user, comment=comment)
        else:
            messages.error(request, "请求无效，请重试")
            return redirect("assistance:disability_detail", pk=application.pk)
    except TransitionError as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        application.case.refresh_from_db()
        messages.success(request, f"已办理：{application.case.number} 现为“{application.case.status_label}”")
    return redirect("assistance:disability_detail", pk=application.pk)


def _comparison_month(request: HttpRequest) -> tuple[ComparisonForm, datetime.date]:
    form = ComparisonForm(request.GET or None)
    month = form.cleaned_data.get("month") if form.is_valid() else None
    return form, month or month_start(timezone.localdate())


@require_http_methods(["GET"])
@_perm("benefits.view_entitlement")
def disability_comparison(request: HttpRequest) -> HttpResponse:
    """月度比对 (应补尽补、应退尽退): who must stop, who should be added, and the coverage."""
    form, month = _comparison_month(request)
    user = request.user
    current = request.GET.get("list", "stop")
    if current not in COMPARISON_LISTS:
        current = "stop"
    stop_rows = selectors.comparison_stop_list(user, month)
    missing = {
        s: selectors.comparison_add_list(user, month, s)
        for s in (DisabilitySubsidy.LIVING, DisabilitySubsidy.CARE)
    }
    coverage = selectors.comparison_coverage(user, month)
    counts = {"stop": len(stop_rows), **{s: c.missing for s, c in zip(missing, coverage, strict=True)}}
    if current == "stop":
        page = Paginator(stop_rows, PAGE_SIZE).get_page(request.GET.get("page"))
    else:
        page = Paginator(missing[current], PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assistance/disability/comparison.html",
        {
            "form": form,
            "month": month,
            "month_value": f"{month:%Y-%m}",
            "current": current,
            "page": page,
            "counts": counts,
            "coverage": coverage,
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
        messages.error(request, _error_text(exc))
    else:
        messages.success(
            request,
            f"已停发{entitlement.person.name if entitlement.person else ''}的{entitlement.benefit_type.name}，"
            f"最后发放月份为{_cn_month(entitlement.end_month)}",
        )
    # Back to the same month and list (only these two values are taken from the form).
    back = {"list": request.POST.get("list", "stop"), "month": request.POST.get("month", "")}
    if back["list"] not in COMPARISON_LISTS:
        back["list"] = "stop"
    return redirect(f"{reverse('assistance:disability_comparison')}?{urlencode(back)}")
