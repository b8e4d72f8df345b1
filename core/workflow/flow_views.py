"""The views of the case-flow kit (`core.workflow.flows`), built for a flow declaration by `CaseFlow.urls()`.

Permission first (403), then scope: a record outside the user's region is a 404, like a missing one. Every
POST lands the user back on the flow's detail page, at the form of the step the case has now reached."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.form_pages import apply_service_errors, form_status
from core.forms_once import once_per_form
from core.lists import guarded
from core.registry import services as registry_services
from core.registry.forms import AttachmentForm
from core.registry.models import Household, Person
from core.registry.selectors import attachments_for, household_search
from core.validation import date_problem

from .flows import CaseFlow, Step
from .services import MAX_NOTICE_DAYS, TransitionError, transition_choices

PICK_LIMIT = 20
# The box a user ticks to start a 公示 despite the flow's warning (NoticeHooks.start_warning).
ACKNOWLEDGE_LABEL = "已知悉评估结果为不符合条件，仍继续办理"
# The id of the detail page's card with the next step's form (workflow/flow/detail.html).
NEXT_STEP_ANCHOR = "next"


def _perm(name: str, flow: type[CaseFlow]):
    """Login, the permission, and that the user works in the flow's section (core.lists.guarded)."""
    return guarded(name, flow.section)


def _get(flow: type[CaseFlow], request: HttpRequest, pk: int):
    try:
        return flow.queryset(request.user).get(pk=pk)
    except flow.model.DoesNotExist:
        raise Http404("申请不存在") from None


def _crumbs(flow: type[CaseFlow], application=None) -> list[tuple[str, str]]:
    crumbs = [(flow.title, flow.reverse("list"))]
    if application is not None:
        crumbs.append((application.case.number, flow.reverse("detail", application.pk)))
    return crumbs


def _back(flow: type[CaseFlow], application, anchor: str = "") -> HttpResponse:
    """The detail page at `anchor`, else at the one the flow declares for the status, else at the card with
    the next step's form (after 受理 above all, the caseworker goes on there)."""
    anchor = anchor or flow.status_anchors.get(application.case.status, NEXT_STEP_ANCHOR)
    url = flow.reverse("detail", application.pk)
    return redirect(f"{url}#{anchor}" if anchor else url)


# -- 新增申请 --------------------------------------------------------------------------------------------


def create_view(flow: type[CaseFlow]):
    @require_http_methods(["GET", "POST"])
    @_perm(flow.create_permission, flow)
    @once_per_form
    def view(request: HttpRequest) -> HttpResponse:
        household, person = _applicant(request)
        if household is None:
            return _pick(flow, request)
        kwargs = {"household": household}
        if flow.create_for == "person":
            kwargs["person"] = person
        form = flow.create_form(request.POST or None, initial=flow.create_initial(request), **kwargs)
        if request.method == "POST" and form.is_valid():
            try:
                application = flow.create(
                    data=form.cleaned_data, household=household, person=person, actor=request.user
                )
            except ValidationError as exc:
                apply_service_errors(exc, form)
            except TransitionError as exc:
                form.add_error(None, exc.message)
            else:
                level, text = flow.created_message(application)
                getattr(messages, level)(request, text)
                return _back(flow, application)
        return render(
            request,
            flow.blocks.get("create", "workflow/flow/form.html"),
            {
                "form": form,
                "flow": flow,
                "household": household,
                "intro": flow.create_intro,
                "title": f"新增{flow.case_type.label}申请 · {household.number}",
                "crumbs": _crumbs(flow),
                "cancel_url": reverse("registry:household_detail", args=[household.pk]),
                "submit_label": "登记申请",
                "blocked": flow.create_problem(household=household, person=person),
                "warning": flow.create_warning(household=household, person=person),
            },
            status=form_status(form),
        )

    return view


def _applicant(request: HttpRequest) -> tuple[Household | None, Person | None]:
    """The household (and person) an application is for, from ?household= or ?person= (scoped)."""
    visible = Household.objects.visible_to(request.user).select_related("region", "head")
    person_pk = request.GET.get("person", "")
    household_pk = request.GET.get("household", "")
    if person_pk.isdigit():
        person = get_object_or_404(Person.objects.filter(household__in=visible), pk=int(person_pk))
        return visible.get(pk=person.household_id), person
    if household_pk.isdigit():
        return get_object_or_404(visible, pk=int(household_pk)), None
    return None, None


def _pick(flow: type[CaseFlow], request: HttpRequest) -> HttpResponse:
    """新增申请 without a household: find it first (户编号 or the head's name, scoped)."""
    q = (request.GET.get("q") or "").strip()
    try:
        households = household_search(request.user, q, PICK_LIMIT)
    except ValueError as exc:
        messages.error(request, str(exc))
        households = []
    return render(
        request,
        "workflow/flow/pick.html",
        {
            "flow": flow,
            "q": q,
            "searched": "q" in request.GET,
            "households": households,
            "crumbs": _crumbs(flow),
            "limit": PICK_LIMIT,
            "title": f"新增{flow.case_type.label}申请",
        },
    )


# -- the detail frame -----------------------------------------------------------------------------------


def detail_view(flow: type[CaseFlow]):
    @require_http_methods(["GET"])
    @_perm("workflow.view_case", flow)
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        application = _get(flow, request, pk)
        case = application.case
        user = request.user
        context = flow.detail_context(application, user)
        today = timezone.localdate()
        notice = flow.notice if flow.notice is not None and flow.notice.applies(application) else None
        notices = list(case.notices.order_by("-start_date", "-id")) if notice is not None else []
        hidden = set(flow.hidden_transitions) | (set(notice.transitions) if notice is not None else set())
        actions = []
        if case.is_open:
            for t, reason in transition_choices(case, user):
                if t.name not in hidden:
                    actions.append({"t": t, "reason": reason})
        steps = [
            {"step": s, "url": flow.reverse(s.name, application.pk)}
            for s in flow.steps
            if case.status in s.statuses
            and user.has_perm(s.permission)
            and (s.applies is None or s.applies(application))
        ]
        context.update(
            {
                "flow": flow,
                "application": application,
                "case": case,
                "timeline": case.transitions.select_related("actor").order_by("at", "id"),
                "attachments": attachments_for(case),
                "actions": actions,
                "steps": steps,
                "notice_hooks": notice,
                "notices": notices,
                # The to-do list's rule (core.workflow.selectors._overdue_q): never overdue while a 公示 hangs.
                "overdue": case.is_open
                and case.due_date is not None
                and case.due_date < today
                and not any(n.closed_at is None and n.end_date >= today for n in notices),
                "today": today,
                "crumbs": _crumbs(flow),
                "blocks": flow.blocks,
            }
        )
        context["proposal"] = flow.proposed_amount(application, context) if case.is_open else None
        context["flow_warnings"] = flow.warnings(application, context) if case.is_open else []
        if notice is not None and case.is_open and user.has_perm("workflow.add_publicnotice"):
            start_statuses = notice.start_statuses or _publicize_sources(flow)
            problem = notice.problem(application)
            running = any(n.closed_at is None for n in context["notices"])
            context["notice_start"] = case.status in start_statuses and not running and not problem
            context["notice_problem"] = problem if case.status in start_statuses else None
            context["notice_act"] = running
            context["notice_warning"] = notice.start_warning(application) if context["notice_start"] else None
            if running:
                last_day = max(n.end_date for n in context["notices"] if n.closed_at is None)
                context["notice_finishable_on"] = last_day + datetime.timedelta(days=1)
        return render(request, flow.blocks.get("detail", "workflow/flow/detail.html"), context)

    return view


def _publicize_sources(flow: type[CaseFlow]) -> tuple[str, ...]:
    try:
        return flow.case_type.transition("publicize").source
    except KeyError:
        return ()


def step_view(flow: type[CaseFlow], step: Step):
    @require_http_methods(["GET", "POST"])
    @_perm(step.permission, flow)
    @once_per_form
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        application = _get(flow, request, pk)
        kwargs = step.form_kwargs(application) if step.form_kwargs else {}
        initial = step.initial(application) if step.initial else None
        form = step.form(request.POST or None, initial=initial, **kwargs)
        if application.case.status not in step.statuses:
            messages.error(request, f"案件当前为“{application.case.status_label}”，不能{step.label}")
            return _back(flow, application)
        if step.applies is not None and not step.applies(application):
            # Done already (a second tab, the back button) or not called for now: the detail page, which
            # shows what was done, rather than a form the service would refuse.
            messages.info(request, f"“{step.label}”已办理或当前不需要办理")
            return _back(flow, application, step.anchor)
        if request.method == "POST" and form.is_valid():
            try:
                result = step.save(application=application, actor=request.user, form=form)
            except ValidationError as exc:
                apply_service_errors(exc, form)
            except TransitionError as exc:
                form.add_error(None, exc.message)
            else:
                message, warnings = result if isinstance(result, tuple) else (result, ())
                messages.success(request, message or f"{step.label}已保存")
                for warning in warnings:
                    messages.warning(request, warning)
                application.case.refresh_from_db()
                return _back(flow, application, step.anchor)
        return render(
            request,
            step.template,
            {
                "form": form,
                "flow": flow,
                "application": application,
                "title": f"{step.label} · {application.case.number}",
                "crumbs": _crumbs(flow, application),
                "cancel_url": flow.reverse("detail", application.pk),
                "submit_label": "保存",
            },
            status=form_status(form),
        )

    return view


def transition_view(flow: type[CaseFlow]):
    @require_POST
    @_perm("workflow.view_case", flow)
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        application = _get(flow, request, pk)
        try:
            case = flow.transition(
                application=application,
                name=request.POST.get("name", ""),
                actor=request.user,
                comment=request.POST.get("comment", ""),
            )
        except (TransitionError, ValidationError) as exc:
            messages.error(request, getattr(exc, "message", None) or "；".join(exc.messages))
        else:
            messages.success(request, f"已办理：{case.number} 现为“{case.status_label}”")
        application.case.refresh_from_db()
        return _back(flow, application)

    return view


def notice_view(flow: type[CaseFlow]):
    @require_POST
    @_perm("workflow.add_publicnotice", flow)
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        """公示 actions of the detail page: start (提交公示并发布), object (登记异议), finish (公示期满)."""
        application = _get(flow, request, pk)
        hooks = flow.notice
        action = request.POST.get("action", "")
        try:
            if action == "start":
                start_date, days = _notice_start(request.POST)
                warning = hooks.start_warning(application)
                if warning and request.POST.get("acknowledge") != "1":
                    raise TransitionError(f"{warning}。请勾选“{ACKNOWLEDGE_LABEL}”后再发布公示")
                notice = hooks.start(
                    application=application,
                    actor=request.user,
                    start_date=start_date,
                    days=days,
                    place=request.POST.get("place", ""),
                    **({"acknowledged_warning": warning} if warning else {}),
                )
                end = notice.end_date
                messages.success(request, f"已发布公示，公示期至{end.year}年{end.month}月{end.day}日")
            elif action == "object":
                hooks.object_(
                    application=application, actor=request.user, objection=request.POST.get("objection", "")
                )
                messages.success(request, hooks.object_message)
            elif action == "finish":
                hooks.finish(
                    application=application, actor=request.user, comment=request.POST.get("comment", "")
                )
                messages.success(request, hooks.finish_message)
            else:
                messages.error(request, "请求无效，请重试")
        except TransitionError as exc:
            messages.error(request, exc.message)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        application.case.refresh_from_db()
        return _back(flow, application, "notices" if action != "finish" else "")

    return view


def _notice_start(post) -> tuple[datetime.date, int]:
    """The start date and length of a 公示 from the form (a Chinese error when missing or absurd)."""
    try:
        start_date = datetime.date.fromisoformat((post.get("start_date") or "").strip())
    except ValueError:
        start_date = None
    days = (post.get("days") or "7").strip()
    if start_date is None or not days.isascii() or not days.isdigit():
        raise TransitionError("请填写公示开始日期和天数")
    if date_problem(start_date):
        raise TransitionError(f"公示开始{date_problem(start_date)}")
    if int(days) > MAX_NOTICE_DAYS:
        raise TransitionError(f"公示天数不能超过{MAX_NOTICE_DAYS}天")
    return start_date, int(days)


def attachment_view(flow: type[CaseFlow]):
    @require_http_methods(["GET", "POST"])
    @_perm("registry.add_attachment", flow)
    @once_per_form
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        """上传申请材料 (申请书, signed 告知承诺书/授权书, proofs) to the case."""
        application = _get(flow, request, pk)
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
                return _back(flow, application, "attachments")
        return render(
            request,
            "registry/form_page.html",
            {
                "form": form,
                "title": f"上传申请材料 · {application.case.number}",
                "crumbs": _crumbs(flow, application),
                "cancel_url": flow.reverse("detail", application.pk),
                "multipart": True,
                "submit_label": "上传",
            },
            status=form_status(form),
        )

    return view
