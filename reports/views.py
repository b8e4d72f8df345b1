"""报表中心: request a report, watch its progress (htmx polling), download the file. Thin views: scope
comes from the selectors, every write from a service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from core.forms_once import once_per_form
from core.validation import refused_filter_message

from . import selectors, services
from .forms import JobFilterForm
from .models import ReportJob
from .notices import communities_in_scope
from .notices import notice_list_pdf as build_notice_pdf
from .notices import posted_list_pdf as build_posted_pdf
from .registry import XLSX, get_report_type, report_types, report_types_for

JOBS_PER_PAGE = 20


def _visible_job(request: HttpRequest, pk: int) -> ReportJob:
    try:
        return selectors.job_get(request.user, pk)
    except ReportJob.DoesNotExist:
        raise Http404("报表不存在") from None


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    available = report_types_for(request.user)
    if not available:
        raise PermissionDenied("您没有可生成的报表")
    services.report_jobs_fail_stale()
    can_see_all = selectors.can_see_all_jobs(request.user)
    form = JobFilterForm(request.GET or None, can_see_all=can_see_all)
    filters = form.cleaned_data if form.is_valid() else {}
    if form.is_bound and not form.is_valid():
        messages.error(request, refused_filter_message(form))
    jobs = selectors.jobs_for(
        request.user,
        mine_only=filters.get("scope") != "all",
        status=filters.get("status") or "",
        report_type=filters.get("report_type") or "",
    )
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/job_list.html",
        {
            "form": form,
            "page": page,
            "available": available,
            "labels": {t.code: t.label for t in report_types()},
            "show_requester": can_see_all and filters.get("scope") == "all",
        },
    )


@login_required
@once_per_form
def job_request(request: HttpRequest, code: str) -> HttpResponse:
    definition = get_report_type(code)
    if definition is None:
        raise Http404("报表类型不存在")
    if not definition.allowed_for(request.user):
        raise PermissionDenied("您没有生成该报表的权限")
    bound = request.method == "POST"
    form = definition.params_form(
        request.POST if bound else None, request.FILES if bound else None, user=request.user
    )
    if bound and form.is_valid():
        try:
            job = services.report_request(
                report_type=code, params=request.POST.dict(), files=request.FILES, actor=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            # After the build queued on commit: with eager Celery (the embedded default) it has run by then.
            transaction.on_commit(lambda: _say_submitted(request, job))
            return redirect("reports:job_list")
    return render(request, "reports/job_request.html", {"definition": definition, "form": form})


def _say_submitted(request: HttpRequest, job: ReportJob) -> None:
    """What became of the job just requested: with eager Celery (the embedded default) it is already built."""
    job.refresh_from_db()
    is_import = job.is_import
    if job.status == ReportJob.Status.DONE:
        if is_import:
            messages.success(request, f"“{job.title}”已导入 {job.record_count} 条，导入结果可在本页下载。")
        else:
            messages.success(request, f"“{job.title}”已生成，可在本页下载。")
    elif job.status == ReportJob.Status.FAILED:
        failed = "导入失败" if is_import else "生成失败"
        more = "，错误明细可在本页下载" if job.can_download and "错误明细" not in job.error else ""
        messages.error(request, f"“{job.title}”{failed}：{job.error}{more}")
    elif is_import:
        messages.success(request, f"已提交“{job.title}”，正在后台检查和导入，完成后在本页查看结果。")
    else:
        messages.success(request, f"已提交“{job.title}”，正在后台生成，完成后可在本页下载。")


@login_required
def job_template(request: HttpRequest, code: str) -> HttpResponse:
    """An import's blank workbook (its columns, and the communities the user may import into)."""
    definition = get_report_type(code)
    if definition is None or definition.template is None:
        raise Http404("该类型没有导入模板")
    if not definition.allowed_for(request.user):
        raise PermissionDenied("您没有该导入的权限")
    filename, content = definition.template(request.user)
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
def job_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's row, for htmx polling: it stops polling once the job is finished. A running job silent
    for too long (its worker was lost) is failed here, so the row offers 重试 instead of polling forever."""
    services.report_jobs_fail_stale(job_ids=[pk])
    job = _visible_job(request, pk)
    labels = {t.code: t.label for t in report_types()}
    return render(request, "reports/_job_row.html", {"job": job, "labels": labels, "show_requester": False})


@require_POST
@login_required
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = _visible_job(request, pk)
    try:
        job = services.report_retry(job_id=job.pk, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        transaction.on_commit(lambda: _say_submitted(request, job))
    return redirect("reports:job_list")


@require_POST
@login_required
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = _visible_job(request, pk)
    try:
        job = services.report_cancel(job_id=job.pk, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已取消“{job.title}”。")
    return redirect("reports:job_list")


@login_required
def job_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = _visible_job(request, pk)
    definition = get_report_type(job.report_type)
    if definition is None or not definition.allowed_for(request.user):
        raise PermissionDenied("您没有下载该报表的权限")
    if not job.can_download:
        raise Http404("报表尚未生成完成")
    try:
        handle = job.file.open("rb")
    except FileNotFoundError:
        raise Http404("报表文件已不存在，请重新生成") from None
    services.report_download_record(job=job, actor=request.user, ip=request.META.get("REMOTE_ADDR"))
    return FileResponse(
        handle, as_attachment=True, filename=job.filename, content_type=job.content_type or None
    )


#: The most communities a list PDF opened in the browser covers; a larger scope's list is built in the
#: report centre. A community's list takes about a second to render (benchmarks/README.md, "PDF 张榜名单"):
#: a street's ten to twenty communities print while the user waits, a district's hundred would outlast
#: the web server's timeout (120 s) and hold one of its workers meanwhile.
INLINE_LIST_MAX_COMMUNITIES = 20


def _whole_scope_in_the_background(request: HttpRequest, community: str, report_code: str):
    """None when the list can be rendered in this request; a 404 for a community out of scope; for the
    whole of a scope wider than INLINE_LIST_MAX_COMMUNITIES, a redirect to the report centre's form for the
    same list, saying why (a GET changes nothing: the user submits the job there)."""
    communities = communities_in_scope(request.user)
    if community:
        if community not in dict(communities):
            raise Http404("社区（村）不存在")
        return None
    if len(communities) <= INLINE_LIST_MAX_COMMUNITIES:
        return None
    messages.info(
        request,
        f"您的数据范围内有 {len(communities)} 个社区（村），整份名单需在后台生成："
        "请点击“提交生成”，完成后在报表中心下载。单个社区（村）的名单可在公示名单页面直接打开。",
    )
    return redirect("reports:job_request", code=report_code)


@permission_required("workflow.view_case", raise_exception=True)
def notice_list_pdf(request: HttpRequest) -> HttpResponse:
    """公示名单 PDF of one community (?community=<12-digit code>) or of every community in scope."""
    community = request.GET.get("community", "")
    if to_report_centre := _whole_scope_in_the_background(request, community, "notice_list"):
        return to_report_centre
    content, filename, _ = build_notice_pdf(request.user, community)
    response = HttpResponse(content, content_type="application/pdf")
    # Inline: the browser's viewer opens it, ready to print for the community's notice board.
    response["Content-Disposition"] = content_disposition_header(False, filename)
    return response


@permission_required("benefits.view_entitlement", raise_exception=True)
def posted_list_pdf(request: HttpRequest) -> HttpResponse:
    """保障对象张榜名单 PDF (names partly masked) of one community (?community=<12-digit code>) or of every
    community in scope."""
    community = request.GET.get("community", "")
    if to_report_centre := _whole_scope_in_the_background(request, community, "posted_list"):
        return to_report_centre
    content, filename, _ = build_posted_pdf(request.user, community)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, filename)
    return response
