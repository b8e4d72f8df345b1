"""Pages of a 特困 person's life after approval (assistance/tekun/lifecycle.py): the to-do list and each
to-do, the yearly-review schedule, a reported self-care change, the 终止 decision and its printed 决定书,
and the care agreements of 分散供养. Thin: parse, call one service, render. Every record comes from its
`visible_to(user)` queryset (outside the user's region: 404)."""

from __future__ import annotations

import django_filters
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from core.accounts.templatetags.ui import cn_month
from core.benefits.months import add_months, month_start
from core.form_pages import apply_service_errors, form_status, save_and_redirect
from core.forms_once import once_per_form
from core.lists import Col, RecordList, RegionFilterSet, guarded
from core.pdf import render_pdf
from core.workflow.services import TransitionError

from ..documents.common import appeal_rights, pdf_response
from ..models import (
    TekunApplication,
    TekunCareAgreement,
    TekunTask,
    TekunTaskKind,
    TekunTaskOutcome,
    TekunTermination,
)
from . import lifecycle
from .forms import (
    CareAgreementForm,
    ReassessmentForm,
    ReassessmentOpenForm,
    RejudgementForm,
    ReviewRecordForm,
    TerminationForm,
)

VIEW_PERMISSION = "workflow.view_case"
SECTION = "assistance"


def _application(request: HttpRequest, pk: int) -> TekunApplication:
    found = (
        TekunApplication.objects.visible_to(request.user)
        .select_related("case", "person", "household", "facility")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("该特困人员不存在或不在您的数据范围内")
    return found


def _detail_url(application: TekunApplication) -> str:
    return reverse("assistance:tekun_detail", args=[application.pk])


def _crumbs(application: TekunApplication | None = None) -> list[tuple[str, str]]:
    crumbs = [("特困人员", reverse("assistance:tekun_list"))]
    if application is not None:
        crumbs.append((application.person.name, _detail_url(application)))
    return crumbs


def _form_page(
    request,
    form,
    *,
    title,
    crumbs,
    cancel_url,
    help_text="",
    submit_label="保存",
    submit_class="",
    warning="",
):
    context = {
        "form": form,
        "title": title,
        "crumbs": crumbs,
        "cancel_url": cancel_url,
        "help_text": help_text,
        "submit_label": submit_label,
        "submit_class": submit_class,
        "warning": warning,
    }
    return render(request, "registry/form_page.html", context, status=form_status(form))


def _refused(request: HttpRequest, exc: TransitionError, to: str) -> HttpResponse:
    messages.error(request, str(exc))
    return redirect(to)


# -- 待办事项 -------------------------------------------------------------------------------------------


class TaskFilterSet(RegionFilterSet):
    kind = django_filters.ChoiceFilter(label="事项", choices=TekunTaskKind.choices, empty_label="全部事项")
    state = django_filters.ChoiceFilter(
        label="状态",
        choices=[("open", "办理中"), ("overdue", "已超期"), ("closed", "已办结")],
        empty_label="全部状态",
        method="filter_state",
    )
    search_fields = ("person__name",)

    def filter_state(self, queryset, name, value):
        today = timezone.localdate()
        if value == "open":
            return queryset.filter(is_open=True)
        if value == "overdue":
            return queryset.filter(is_open=True, due_on__lt=today)
        if value == "closed":
            return queryset.filter(is_open=False)
        return queryset


def _task_state(task: TekunTask) -> str:
    if not task.is_open:
        return task.get_outcome_display() or "已办结"
    if task.due_on < timezone.localdate():
        return f"已超期（时限{task.due_on:%Y-%m-%d}）"
    return "办理中"


class TekunTaskList(RecordList):
    name = "tekun_tasks"
    namespace = "assistance"
    title = "特困人员待办事项"
    heading = "特困人员待办事项"
    model = TekunTask
    permission = VIEW_PERMISSION
    section = SECTION
    filterset = TaskFilterSet
    select_related = ("person", "application", "closed_by")
    default_sort = "due_on"
    tiebreak = ("pk",)
    search_placeholder = "特困人员姓名"
    count_unit = "项"
    list_intro = (
        "自理能力变化后的重新评估（10个工作日内）、年度复核、未成年人年满16/18周岁的重新认定。"
        "超过办理时限仍未办结的显示为已超期。"
    )
    detail_url_name = "assistance:tekun_task_detail"
    columns = [
        Col("特困人员", "person.name", link=True, sort="person__name"),
        Col("事项", "get_kind_display"),
        Col("发起原因", "reason"),
        Col("发起日期", "opened_on", kind="date", sort="opened_on"),
        Col("办理时限", "due_on", kind="date", sort="due_on"),
        Col("状态", _task_state),
        Col("办理情况", "finding", in_list=False),
        Col("办结人", "closed_by", in_list=False),
    ]


def _task(request: HttpRequest, pk: int) -> TekunTask:
    found = (
        TekunTask.objects.visible_to(request.user)
        .select_related(
            "person",
            "application",
            "application__case",
            "application__care_entitlement",
            "closed_by",
            "opened_by",
        )
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("该事项不存在或不在您的数据范围内")
    return found


TASK_FORMS = {
    TekunTaskKind.REASSESSMENT: ReassessmentForm,
    TekunTaskKind.YEARLY_REVIEW: ReviewRecordForm,
    TekunTaskKind.MINOR_REJUDGEMENT: RejudgementForm,
}


def _save_task(task: TekunTask, form, actor) -> str:
    if task.kind == TekunTaskKind.REASSESSMENT:
        result = lifecycle.tekun_reassessment_record(task=task, actor=actor, **form.service_kwargs())
        if result.from_month is None:
            return f"重新评估已登记：照料护理档次仍为“{result.tier}”"
        message = f"重新评估已登记：照料护理档次由“{result.previous}”调整为“{result.tier}”，自{cn_month(result.from_month)}起执行"
        return message + (f"。提示：{result.warning}" if result.warning else "")
    if task.kind == TekunTaskKind.YEARLY_REVIEW:
        lifecycle.tekun_review_record(task=task, actor=actor, **form.cleaned_data)
        return "年度复核已办结，继续救助供养"
    lifecycle.tekun_rejudgement_record(task=task, actor=actor, **form.service_kwargs())
    return "重新认定已办结，继续救助供养"


@require_http_methods(["GET", "POST"])
@guarded(VIEW_PERMISSION, SECTION)
@once_per_form
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    can_act = task.is_open and request.user.has_perm(lifecycle.ACT_PERMISSION)
    form = TASK_FORMS[task.kind](request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not can_act:
            messages.error(request, "该事项已办结，或您没有办理权限")
            return redirect("assistance:tekun_task_detail", pk)
        if form.is_valid():
            try:
                message = _save_task(task, form, request.user)
            except ValidationError as exc:
                apply_service_errors(exc, form)
            except TransitionError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, message)
                return redirect("assistance:tekun_task_detail", pk)
    context = {
        "task": task,
        "application": task.application,
        "form": form,
        "can_act": can_act,
        "can_terminate": task.is_open and request.user.has_perm(lifecycle.DECIDE_PERMISSION),
        "overdue": task.is_open and task.due_on < timezone.localdate(),
        "tier_next": lifecycle.care_tier_in_force(
            task.application, add_months(month_start(timezone.localdate()), 1)
        ),
        "crumbs": [*_crumbs(task.application), ("待办事项", reverse("assistance:tekun_tasks_list"))],
    }
    return render(request, "assistance/tekun/task_detail.html", context, status=form_status(form))


# -- 年度复核 -------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@guarded(VIEW_PERMISSION, SECTION)
def schedule(request: HttpRequest) -> HttpResponse:
    """The yearly reviews due (set-based) and the checks that open to-dos: reviews, minors at 16/18 and
    self-care assessments that disagree with the tier paid."""
    today = timezone.localdate()
    if request.method == "POST":
        action = request.POST.get("action")
        actions = {
            "reviews": (lifecycle.tekun_reviews_open, "年度复核"),
            "minors": (lifecycle.tekun_minors_detect, "未成年人重新认定"),
            "care": (lifecycle.tekun_care_changes_detect, "自理能力重新评估"),
        }
        if action not in actions:
            messages.error(request, "请求无效，请重试")
        else:
            service, label = actions[action]
            try:
                opened = service(actor=request.user, on_date=today)
            except TransitionError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request, f"已生成{len(opened)}项{label}待办" if opened else f"没有需要生成的{label}待办"
                )
        return redirect("assistance:tekun_schedule")
    try:
        due = lifecycle.tekun_reviews_due(request.user, today)
        error = ""
    except TransitionError as exc:
        due, error = [], str(exc)
    context = {
        "due": due,
        "error": error,
        "today": today,
        "can_act": request.user.has_perm(lifecycle.ACT_PERMISSION),
        "crumbs": _crumbs(),
    }
    return render(request, "assistance/tekun/schedule.html", context)


# -- 自理能力变化 ---------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@guarded(lifecycle.ACT_PERMISSION, SECTION)
@once_per_form
def reassessment_open(request: HttpRequest, pk: int) -> HttpResponse:
    application = _application(request, pk)
    form = ReassessmentOpenForm(request.POST or None)
    try:
        saved = save_and_redirect(
            request,
            form,
            lambda data: lifecycle.tekun_reassessment_open(
                application=application, actor=request.user, **data
            ),
            success=lambda task: f"已登记自理能力变化，请于{task.due_on:%Y-%m-%d}前完成重新评估",
            to=lambda task: reverse("assistance:tekun_task_detail", args=[task.pk]),
        )
    except TransitionError as exc:
        form.add_error(None, str(exc))
        saved = None
    return saved or _form_page(
        request,
        form,
        title=f"登记自理能力变化：{application.person.name}",
        crumbs=_crumbs(application),
        cancel_url=_detail_url(application),
        help_text="特困人员生活自理能力发生变化的，应在10个工作日内重新评估（民发〔2021〕43号）；"
        "评估结果改变照料护理档次的，自次月起按新档次发放。",
    )


# -- 终止 -----------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@guarded(lifecycle.DECIDE_PERMISSION, SECTION)
@once_per_form
def terminate(request: HttpRequest, pk: int) -> HttpResponse:
    application = _application(request, pk)
    done = TekunTermination.objects.filter(application=application).only("number", "effective_month").first()
    if done is not None:
        # Already decided (a second tab, the back button, a bookmarked link): show the decision, not a
        # form whose every submit would be refused.
        messages.info(
            request,
            f"{application.person.name}的特困人员救助供养已决定自{cn_month(done.effective_month)}起终止"
            f"（{done.number}），可在下方打印终止决定书",
        )
        return redirect(f"{_detail_url(application)}#lifecycle")
    task = None
    task_id = request.GET.get("task") or request.POST.get("task")
    if task_id and task_id.isdigit():
        task = (
            TekunTask.objects.visible_to(request.user)
            .filter(pk=int(task_id), application=application)
            .first()
        )
    form = TerminationForm(request.POST or None)
    try:
        saved = save_and_redirect(
            request,
            form,
            lambda data: lifecycle.tekun_terminate(
                application=application, actor=request.user, task=task, **data
            ),
            success=lambda t: (
                f"已作出终止救助供养决定（{t.number}），自{cn_month(t.effective_month)}起停止发放"
            ),
            to=_detail_url(application),
        )
    except TransitionError as exc:
        form.add_error(None, str(exc))
        saved = None
    return saved or _form_page(
        request,
        form,
        title=f"终止救助供养：{application.person.name}",
        crumbs=_crumbs(application),
        cancel_url=_detail_url(application),
        submit_label="作出终止决定",
        submit_class="btn-danger",
        help_text="终止决定由社会救助科科长作出：基本生活费和照料护理费自终止月份起停止发放，"
        "已发放的终止月份以后的金额由下次发放批次扣回。决定书载明终止理由和申请行政复议、提起行政诉讼的权利。",
    )


@require_http_methods(["GET"])
@guarded(VIEW_PERMISSION, SECTION)
def termination_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    application = _application(request, pk)
    termination = (
        TekunTermination.objects.visible_to(request.user)
        .select_related("decided_by", "person")
        .filter(application=application)
        .first()
    )
    if termination is None:
        raise Http404("尚未作出终止决定")
    context = {
        "case": termination,  # the notice frame prints case.number: the decision's own number
        "application": application,
        "termination": termination,
        "notice": lifecycle_notice(termination),
        "delivery": None,
        **appeal_rights(),
    }
    content = render_pdf("assistance/print/tekun_termination.html", context)
    return pdf_response(content, f"特困人员终止救助供养决定书_{termination.number}.pdf")


def lifecycle_notice(termination: TekunTermination):
    from core.workflow.delivery import DecisionNotice

    return DecisionNotice(
        "termination",
        "特困人员终止救助供养决定书",
        timezone.localdate(termination.decided_at),
        termination.person.name,
    )


# -- 照料服务协议 ---------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@guarded(lifecycle.ACT_PERMISSION, SECTION)
@once_per_form
def care_agreement_create(request: HttpRequest, pk: int) -> HttpResponse:
    application = _application(request, pk)
    form = CareAgreementForm(request.POST or None)
    try:
        saved = save_and_redirect(
            request,
            form,
            lambda data: lifecycle.tekun_care_agreement_record(
                application=application, actor=request.user, **data
            ),
            success="照料服务协议已登记",
            to=_detail_url(application),
        )
    except TransitionError as exc:
        form.add_error(None, str(exc))
        saved = None
    return saved or _form_page(
        request,
        form,
        title=f"登记照料服务协议：{application.person.name}",
        crumbs=_crumbs(application),
        cancel_url=_detail_url(application),
        help_text="分散供养的特困人员，由乡镇（街道）与照料人签订照料服务协议，明确照料服务内容和频次。",
    )


class AgreementFilterSet(RegionFilterSet):
    search_fields = ("person__name", "carer_name")


class TekunCareAgreementList(RecordList):
    name = "tekun_care_agreements"
    namespace = "assistance"
    title = "特困人员照料服务协议"
    heading = "特困人员照料服务协议（分散供养）"
    model = TekunCareAgreement
    permission = VIEW_PERMISSION
    section = SECTION
    filterset = AgreementFilterSet
    select_related = ("person", "application")
    default_sort = "-signed_on"
    search_placeholder = "特困人员或照料人姓名"
    count_unit = "份"
    detail_url_name = "assistance:tekun_detail"
    detail_field = "application_id"
    columns = [
        Col("特困人员", "person.name", link=True, sort="person__name"),
        Col("照料人", "carer_name"),
        Col("关系", "carer_relation"),
        Col("服务内容", "services"),
        Col("服务频次", "frequency"),
        Col("签订日期", "signed_on", kind="date", sort="signed_on"),
        Col("有效期至", "valid_until", kind="date", sort="valid_until"),
        Col("状态", lambda a: "有效" if a.valid_until >= timezone.localdate() else "已到期"),
    ]


__all__ = ["TekunCareAgreementList", "TekunTaskList", "TekunTaskOutcome"]
