"""Thin views: parse, call one service, render. Records outside the user's scope are 404s."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from core.exports import xlsx_response
from core.form_pages import apply_service_errors
from core.forms_once import once_per_form
from core.lists import guarded
from core.registry.models import Person
from core.registry.selectors import streets_and_communities

from . import services
from .forms import (
    CoverageForm,
    EnrollForm,
    FollowUpDoneForm,
    LeaveForm,
    SuggestionActionForm,
    SuggestionFilterForm,
    VisitForm,
)
from .models import Enrollment, Visit
from .programmes import find_programme
from .selectors import coverage, programmes_for, suggestions

SUGGESTIONS_PER_PAGE = 50


def _person(request: HttpRequest, pk: int) -> Person:
    return get_object_or_404(
        Person.objects.visible_to(request.user).select_related("household__region"), pk=pk
    )


def _person_url(person: Person) -> str:
    return reverse("registry:person_detail", args=[person.pk])


def _form_page(request, form, *, title, crumbs, cancel_url, submit_label="保存", help_text=""):
    return render(
        request,
        "registry/form_page.html",
        {
            "form": form,
            "title": title,
            "crumbs": crumbs,
            "cancel_url": cancel_url,
            "submit_label": submit_label,
            "help_text": help_text,
        },
    )


@require_http_methods(["GET", "POST"])
@guarded("visits.add_visit")
@once_per_form
def visit_create(request: HttpRequest, pk: int) -> HttpResponse:
    """登记探访 — the page a caseworker fills in on a phone in the home (one column, large controls)."""
    person = _person(request, pk)
    enrollments = list(
        Enrollment.objects.visible_to(request.user)
        .filter(person=person, left_on__isnull=True)
        .order_by("next_due_on")
    )
    form = VisitForm(request.POST or None, visitors=services.visitor_candidates(person), actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            visit = services.visit_record(
                person=person,
                visited_on=data["visited_on"],
                way=data["way"],
                visitors=data["visitors"],
                findings=data["findings"],
                risk_level=data["risk_level"],
                needs=data["needs"],
                needs_other=data["needs_other"],
                follow_up=data["follow_up"],
                follow_up_due=data["follow_up_due"],
                actor=request.user,
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, f"已登记{person.name}的探访")
            return redirect("visits:visit_detail", pk=visit.pk)
    return render(
        request, "visits/visit_form.html", {"form": form, "person": person, "enrollments": enrollments}
    )


@require_http_methods(["GET"])
@guarded("visits.view_visit")
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    visit = get_object_or_404(
        Visit.objects.visible_to(request.user).select_related("person", "recorded_by", "follow_up_done_by"),
        pk=pk,
    )
    links = list(visit.links.select_related("enrollment").order_by("programme"))
    return render(
        request,
        "visits/visit_detail.html",
        {
            "visit": visit,
            "links": links,
            "visitors": list(visit.visitors.all()),
            "today": timezone.localdate(),
        },
    )


@require_http_methods(["GET", "POST"])
@guarded("visits.change_visit")
def followup_done(request: HttpRequest, pk: int) -> HttpResponse:
    visit = get_object_or_404(Visit.objects.visible_to(request.user).select_related("person"), pk=pk)
    form = FollowUpDoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_follow_up_done(
                visit=visit,
                done_on=form.cleaned_data["done_on"],
                result=form.cleaned_data["result"],
                actor=request.user,
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, "跟进事项已办结")
            return redirect("visits:visit_detail", pk=visit.pk)
    detail = reverse("visits:visit_detail", args=[visit.pk])
    return _form_page(
        request,
        form,
        title=f"办结跟进事项：{visit.person.name}",
        crumbs=[("待办跟进", reverse("visits:followups_list")), (f"探访 {visit.visited_on}", detail)],
        cancel_url=detail,
        submit_label="办结",
        help_text=f"跟进事项：{visit.follow_up}",
    )


@require_http_methods(["GET", "POST"])
@guarded("visits.add_enrollment")
@once_per_form
def enroll(request: HttpRequest, pk: int) -> HttpResponse:
    """手工纳入 a person in a programme (孤儿, 留守 … that no registry rule finds yet)."""
    person = _person(request, pk)
    form = EnrollForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.enrollment_create(
                persons=[person],
                programme_code=data["programme"],
                joined_on=data["joined_on"],
                reason=data["reason"],
                actor=request.user,
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, f"已将{person.name}纳入探访关爱")
            return redirect(_person_url(person))
    return _form_page(
        request,
        form,
        title=f"纳入探访关爱：{person.name}",
        crumbs=[("人员查询", reverse("registry:search")), (person.name, _person_url(person))],
        cancel_url=_person_url(person),
        submit_label="纳入",
    )


@require_http_methods(["GET", "POST"])
@guarded("visits.change_enrollment")
def leave(request: HttpRequest, pk: int) -> HttpResponse:
    enrollment = get_object_or_404(
        Enrollment.objects.visible_to(request.user).select_related("person"), pk=pk
    )
    form = LeaveForm(request.POST or None)
    person = enrollment.person
    if request.method == "POST" and form.is_valid():
        try:
            services.enrollment_leave(
                enrollment=enrollment,
                left_on=form.cleaned_data["left_on"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, f"{person.name}已退出{enrollment.programme_title}")
            return redirect(_person_url(person))
    return _form_page(
        request,
        form,
        title=f"退出探访项目：{person.name}（{enrollment.programme_title}）",
        crumbs=[("人员查询", reverse("registry:search")), (person.name, _person_url(person))],
        cancel_url=_person_url(person),
        submit_label="退出项目",
    )


def _posted_ids(request: HttpRequest) -> list[int] | None:
    ids = []
    for value in request.POST.getlist("persons"):
        if not value.isdigit() or len(value) > 12:
            return None
        ids.append(int(value))
    return ids


@require_http_methods(["GET", "POST"])
@guarded("visits.add_enrollment")
def suggestion_list(request: HttpRequest) -> HttpResponse:
    """待确认对象: the persons a programme's rule finds who are not in it; tick some and 确认纳入 (from a
    date) or 不予纳入 (with the reason)."""
    user = request.user
    mine = programmes_for(user)
    if not mine:
        raise Http404("没有您可办理的探访项目")
    _, communities = streets_and_communities(user)
    filters = SuggestionFilterForm(request.GET or None, user=user, communities=communities)
    code = community = ""
    if filters.is_bound and filters.is_valid():
        code, community = filters.cleaned_data["programme"], filters.cleaned_data["community"]
    programme = find_programme(code) or mine[0]
    today = timezone.localdate()
    if request.method == "POST":
        action = SuggestionActionForm(request.POST)
        ids = _posted_ids(request)
        if not action.is_valid() or ids is None:
            messages.error(request, "提交的内容有误，请刷新页面后重试")
        else:
            data = action.cleaned_data
            try:
                target = find_programme(data["programme"])
                # Only persons the rule still suggests can be confirmed as suggested.
                if target is not None and data["action"] == "confirm":
                    found = set(
                        suggestions(user, target, today).filter(pk__in=ids).values_list("pk", flat=True)
                    )
                    if found != set(ids):
                        raise ValidationError(
                            {"persons": "所选人员中有的已不在建议名单中（已纳入或已处理），请刷新页面"}
                        )
                if data["action"] == "confirm":
                    rows = services.enrollment_create(
                        persons=ids,
                        programme_code=data["programme"],
                        joined_on=data["joined_on"] or today,
                        actor=user,
                    )
                    messages.success(request, f"已确认纳入 {len(rows)} 人")
                else:
                    count = services.suggestion_dismiss(
                        persons=ids, programme_code=data["programme"], reason=data["reason"], actor=user
                    )
                    messages.success(request, f"已将 {count} 人标记为不予纳入")
            except ValidationError as exc:
                for problems in exc.message_dict.values():
                    for problem in problems:
                        messages.error(request, problem)
        return redirect(request.get_full_path())
    rows = suggestions(user, programme, today).select_related("household__region")
    if community:
        rows = rows.filter(region_code=community)
    page = Paginator(rows.order_by("region_code", "name", "pk"), SUGGESTIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "visits/suggestions.html",
        {"filters": filters, "programme": programme, "page": page, "today": today},
    )


@require_http_methods(["GET"])
@guarded("visits.view_enrollment")
def coverage_view(request: HttpRequest) -> HttpResponse:
    """探访覆盖率: per community and street, enrolled in the month vs visited in it, against the target."""
    form = CoverageForm(request.GET or None, user=request.user)
    if form.is_bound and not form.is_valid():
        messages.error(
            request, "查询条件有误：" + "；".join(str(e) for es in form.errors.values() for e in es)
        )
        month, code = timezone.localdate().replace(day=1), ""
    else:
        month = form.cleaned_data["month"] if form.is_bound else timezone.localdate().replace(day=1)
        code = form.cleaned_data.get("programme", "") if form.is_bound else ""
    result = coverage(request.user, month, code)
    if request.GET.get("export") == "xlsx" and not (form.is_bound and form.errors):
        return _coverage_export(result)
    return render(
        request,
        "visits/coverage.html",
        {"form": form, "result": result, "month_value": f"{month.year:04d}-{month.month:02d}"},
    )


def _coverage_export(result) -> HttpResponse:
    month = result.month
    label = f"{month.year}年{month.month}月"

    def rows():
        for level, items in (("合计", result.totals), ("街道", result.streets), ("社区", result.communities)):
            for row in items:
                yield [
                    label,
                    level,
                    row.name,
                    row.code,
                    row.programme_title,
                    row.enrolled,
                    row.visited,
                    row.unvisited,
                    float(row.rate) if row.rate is not None else None,
                    float(row.target_percent) if row.target_percent is not None else None,
                    "" if row.meets_target is None else ("达标" if row.meets_target else "未达标"),
                ]

    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    return xlsx_response(
        sheet_title="探访覆盖率",
        header=[
            "月份",
            "层级",
            "区划",
            "区划代码",
            "探访项目",
            "在册人数",
            "已探访人数",
            "未探访人数",
            "覆盖率（%）",
            "目标（%）",
            "是否达标",
        ],
        rows=rows(),
        filename=f"探访覆盖率-{month.year}{month.month:02d}-{stamp}.xlsx",
        ascii_name=f"visit-coverage-{month.year}{month.month:02d}-{stamp}.xlsx",
    )
