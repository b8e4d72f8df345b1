"""Case pages: to-do list, case search, case page with its timeline, and the 公示 actions.

Thin views: parse, call a selector or a service, render. Scope comes from the selectors; a case outside
the user's scope is a 404, like one that does not exist."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.exports import export_stamp, xlsx_response
from core.validation import refused_filter_message

from . import selectors, services
from .engine import get_case_type
from .forms import CaseFilterForm, NoticeObjectionForm, NoticeOpenForm, TransitionForm
from .links import notice_list_links
from .models import Case, PublicNotice

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 20000


def _view_case(view):
    return login_required(permission_required("workflow.view_case", raise_exception=True)(view))


@contextmanager
def _refusal_as_message(request: HttpRequest) -> Iterator[None]:
    """Run one case action; a refusal (TransitionError) becomes the error message on the page the user is
    sent back to, and the rest of the block (the success message) is skipped."""
    try:
        yield
    except services.TransitionError as exc:
        messages.error(request, exc.message)


def _visible_case(request: HttpRequest, pk: int) -> Case:
    try:
        return selectors.case_get(request.user, pk)
    except Case.DoesNotExist:
        raise Http404("案件不存在") from None


@_view_case
def todo(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    page = Paginator(selectors.todo_for(request.user, today=today), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "workflow/todo.html",
        {"page": page, "counts": selectors.todo_counts(request.user, today=today), "today": today},
    )


@_view_case
def case_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = CaseFilterForm(request.GET or None)
    params = form.params() if request.GET else {}
    cases = selectors.case_search(request.user, params, today=today)
    refused = form.is_bound and not form.is_valid()
    if refused:
        messages.error(request, refused_filter_message(form))
        cases = cases.none()
    if request.GET.get("export") == "xlsx" and not refused:
        return _export_cases(cases)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "workflow/case_list.html",
        {"form": form, "page": page, "sort": params.get("sort") or selectors.DEFAULT_SORT, "today": today},
    )


CASE_EXPORT_HEADER = [
    "案件编号",
    "业务类型",
    "申请人",
    "所属区划",
    "状态",
    "当前环节",
    "待办角色",
    "办理时限",
    "是否超期",
    "创建时间",
]


def _export_cases(cases) -> HttpResponse:
    """The current filter of the case list as .xlsx (scope already applied; core.exports keeps a
    formula-like applicant name as text)."""
    stamp = export_stamp()
    return xlsx_response(
        sheet_title="案件",
        header=CASE_EXPORT_HEADER,
        rows=(
            [
                case.number,
                case.type_label,
                case.applicant_name,
                case.region.name,
                case.status_label,
                case.current_step,
                case.assignee_role,
                case.due_date,
                "是" if case.is_overdue else "",
                timezone.localtime(case.created_at).replace(tzinfo=None),
            ]
            for case in cases[:EXPORT_MAX_ROWS]
        ),
        filename=f"案件-{stamp}.xlsx",
        ascii_name=f"cases-{stamp}.xlsx",
    )


@_view_case
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)
    ct = get_case_type(case.case_type)
    if ct.detail_url_name:
        # A bureau flow's case is handled on the flow's own page, where every step's form is.
        return redirect(ct.detail_url_name, pk=case.pk)
    actions = []
    for t in (t.on(timezone.localdate()) for t in ct.transitions_from(case.status)):
        allowed, reason = services.can_transition(case, t.name, request.user)
        if t.permission and not request.user.has_perm(t.permission):
            continue  # not this user's step at all: no button
        actions.append(
            {"t": t, "allowed": allowed, "reason": reason, "form": TransitionForm(initial={"name": t.name})}
        )
    return render(
        request,
        "workflow/case_detail.html",
        {
            "case": case,
            "case_type": ct,
            "timeline": selectors.case_timeline(case),
            "notices": selectors.case_notices(case),
            "actions": actions,
            "notice_form": NoticeOpenForm(),
            "objection_form": NoticeObjectionForm(),
            "can_notice": case.is_open and request.user.has_perm("workflow.add_publicnotice"),
            "today": timezone.localdate(),
        },
    )


@require_POST
@_view_case
def case_transition(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请求无效，请重试")
        return redirect("workflow:case_detail", pk=case.pk)
    with _refusal_as_message(request):
        services.case_transition(
            case=case,
            name=form.cleaned_data["name"],
            actor=request.user,
            comment=form.cleaned_data["comment"],
        )
        messages.success(request, f"已办理：{case.number} 现为“{case.status_label}”")
    return redirect("workflow:case_detail", pk=case.pk)


@require_POST
@_view_case
@permission_required("workflow.add_publicnotice", raise_exception=True)
def notice_open(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)
    form = NoticeOpenForm(request.POST)
    if not form.is_valid():
        errors = "；".join(e for errs in form.errors.values() for e in errs)
        messages.error(request, f"公示信息有误：{errors}")
        return redirect("workflow:case_detail", pk=case.pk)
    with _refusal_as_message(request):
        notice = services.notice_open(case=case, actor=request.user, **form.cleaned_data)
        end = notice.end_date
        messages.success(request, f"已发布公示，公示期至{end.year}年{end.month}月{end.day}日")
    return redirect("workflow:case_detail", pk=case.pk)


def _visible_notice(request: HttpRequest, pk: int) -> PublicNotice:
    notice = PublicNotice.objects.visible_to(request.user).filter(pk=pk).first()
    if notice is None:
        raise Http404("公示不存在")
    return notice


@require_POST
@_view_case
@permission_required("workflow.add_publicnotice", raise_exception=True)
def notice_object(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _visible_notice(request, pk)
    form = NoticeObjectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写异议内容")
    else:
        with _refusal_as_message(request):
            services.notice_object(
                notice=notice, objection=form.cleaned_data["objection"], actor=request.user
            )
            messages.success(request, "已登记公示异议")
    return redirect("workflow:case_detail", pk=notice.case_id)


@require_POST
@_view_case
@permission_required("workflow.add_publicnotice", raise_exception=True)
def notice_close(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _visible_notice(request, pk)
    with _refusal_as_message(request):
        services.notice_close(notice=notice, actor=request.user)
        messages.success(request, f"公示已结束：{notice.get_status_display()}")
    return redirect("workflow:case_detail", pk=notice.case_id)


@_view_case
def notice_list(request: HttpRequest) -> HttpResponse:
    """Printable list of the 公示 in progress in the user's scope (公示名单), grouped by community."""
    today = timezone.localdate()
    notices = list(selectors.notices_open_in(request.user, today=today)[:2000])
    return render(
        request,
        "workflow/notice_list.html",
        {"notices": notices, "today": today, "links": notice_list_links(request.user)},
    )
