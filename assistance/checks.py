"""变化核查 of the 低保 bureau (core.benefits.checks): an income, asset or member change recorded for a
household paid 低保 on a decision does not change its amount (assistance.bases); it becomes a to-do for
its caseworker, who either opens a dynamic review (情况变化随时复核, whose decision fixes a new amount) or
writes why nothing changes.

A household with a review in hand gets no check: the review reads the same facts and decides."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from core.benefits.checks import change_check_close, change_checks_note
from core.benefits.models import ChangeCheck, Entitlement
from core.benefits.months import month_start
from core.form_pages import apply_service_errors, form_status
from core.lists import Col, RecordList, RegionFilterSet, guarded
from core.registry import events
from core.registry.forms import BootstrapMixin
from core.workflow.services import TransitionError

from . import bases
from .models import DibaoReview

BENEFIT_TYPE_CODE = "dibao"
VIEW_PERMISSION = "benefits.view_entitlement"
ACT_PERMISSION = "workflow.add_case"  # who may open a review (assistance.review.services._require_scheduler)


def on_household_change(household_ids: list[int], what: str, actor) -> None:
    """Subscriber of core.registry.events: a check for each 低保 entitlement in force (or granted from a
    coming month) of these households, unless a review is in hand."""
    month = month_start(timezone.localdate())
    ids = list(
        Entitlement.objects.filter(
            benefit_type__code=BENEFIT_TYPE_CODE,
            household_id__in=household_ids,
            status__in=[Entitlement.Status.ACTIVE, Entitlement.Status.SUSPENDED],
        )
        .filter(Q(end_month__isnull=True) | Q(end_month__gte=month))
        .exclude(pk__in=DibaoReview.objects.filter(is_open=True).values("entitlement_id"))
        .values_list("pk", flat=True)
    )
    if ids:
        change_checks_note(ids, what, actor)


events.subscribe_household_change(on_household_change)


# --- pages ----------------------------------------------------------------------------------------------


class CheckFilterSet(RegionFilterSet):
    status = django_filters.ChoiceFilter(
        label="状态", choices=ChangeCheck.Status.choices, empty_label="全部状态"
    )
    search_fields = ("household__number", "household__head__name")


def _last_change(check: ChangeCheck) -> str:
    return check.changes[-1]["what"] if check.changes else ""


class ChangeCheckList(RecordList):
    name = "checks"
    namespace = "assistance"
    title = "低保变化核查"
    heading = "低保变化核查"
    model = ChangeCheck
    permission = VIEW_PERMISSION
    section = "assistance"
    filterset = CheckFilterSet
    select_related = ("household", "household__head", "household__region", "closed_by")
    default_sort = "-opened_at"
    search_placeholder = "户主姓名或家庭编号"
    count_unit = "条"
    list_intro = (
        "低保家庭在审批或复核决定之后登记的收入、财产、成员、残疾或重病变化，不直接改变保障金额，"
        "须由经办人核查：发起复核（由复核决定调整金额），或写明无需调整的理由。"
    )
    detail_url_name = "assistance:check_detail"
    columns = [
        Col("户主", "household.head.name", link=True),
        Col("家庭编号", "household.number", sort="household__number"),
        Col("所在社区", "household.region.name"),
        Col("最近变化", _last_change),
        Col("变化条数", lambda c: len(c.changes)),
        Col("发现时间", "opened_at", kind="date", sort="opened_at"),
        Col("状态", "get_status_display"),
        Col("核查结论", "finding", in_list=False),
        Col("办结人", "closed_by", in_list=False),
    ]

    @classmethod
    def queryset(cls, user):
        return super().queryset(user).filter(entitlement__benefit_type__code=BENEFIT_TYPE_CODE)


class NoChangeForm(BootstrapMixin, forms.Form):
    finding = forms.CharField(
        label="核查结论",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="写明核查情况和无需调整待遇的理由，如：新增收入为不计入收入的奖学金",
    )


class ReviewForm(BootstrapMixin, forms.Form):
    comment = forms.CharField(
        label="复核说明", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


def _check_or_404(request: HttpRequest, pk: int) -> ChangeCheck:
    check = (
        ChangeCheckList.queryset(request.user)
        .select_related("entitlement", "review_case")
        .filter(pk=pk)
        .first()
    )
    if check is None:
        raise Http404("该变化核查不存在或不在您的数据范围内")
    return check


@require_http_methods(["GET", "POST"])
@guarded(VIEW_PERMISSION, "assistance")
def check_detail(request: HttpRequest, pk: int) -> HttpResponse:
    check = _check_or_404(request, pk)
    can_act = check.is_open and request.user.has_perm(ACT_PERMISSION)
    no_change = NoChangeForm(request.POST if request.POST.get("action") == "no_change" else None, prefix="nc")
    review = ReviewForm(request.POST if request.POST.get("action") == "review" else None, prefix="rv")
    if request.method == "POST":
        if not can_act:
            messages.error(request, "该变化核查已办结，或您没有办理权限")
            return redirect("assistance:check_detail", pk)
        if request.POST.get("action") == "no_change" and no_change.is_valid():
            try:
                change_check_close(
                    check=check,
                    actor=request.user,
                    status=ChangeCheck.Status.NO_CHANGE,
                    finding=no_change.cleaned_data["finding"],
                )
            except ValidationError as exc:
                apply_service_errors(exc, no_change)
            except TransitionError as exc:
                no_change.add_error(None, str(exc))
            else:
                messages.success(request, "已办结：核查无需调整")
                return redirect("assistance:check_detail", pk)
        elif request.POST.get("action") == "review" and review.is_valid():
            try:
                case = open_review(check=check, actor=request.user, comment=review.cleaned_data["comment"])
            except (TransitionError, ValidationError) as exc:
                review.add_error(None, "；".join(getattr(exc, "messages", [str(exc)])))
            else:
                messages.success(request, f"已发起复核 {case.number}")
                return redirect(reverse("workflow:case_detail", args=[case.pk]))
    entitlement = check.entitlement
    current = bases.basis_in_force(
        bases.bases_of({"id": entitlement.pk, "params": entitlement.params}),
        month_start(timezone.localdate()),
    )
    status = 200 if request.method == "GET" else max(form_status(no_change), form_status(review))
    return render(
        request,
        "assistance/checks/detail.html",
        {
            "check": check,
            "household": check.household,
            "basis": current,
            "can_act": can_act,
            "no_change_form": no_change,
            "review_form": review,
            "crumbs": [("低保变化核查", reverse("assistance:checks_list"))],
        },
        status=status,
    )


@transaction.atomic
def open_review(*, check: ChangeCheck, actor, comment: str = ""):
    """发起复核 from a check: the review (情况变化随时复核) is opened with the changes as its reason and the
    check is closed, naming the review's case. Both or neither."""
    from .review.services import dibao_review_open

    changes = "；".join(c["what"] for c in check.changes)
    reason = f"变化核查：{changes}" + (f"。{comment.strip()}" if comment.strip() else "")
    review = dibao_review_open(entitlement=check.entitlement, actor=actor, comment=reason[:1000])
    change_check_close(
        check=check, actor=actor, status=ChangeCheck.Status.REVIEW, finding=comment, review_case=review.case
    )
    return review.case


urlpatterns = [
    ChangeCheckList.list_path("checks/"),
    path("checks/<int:pk>/", check_detail, name="check_detail"),
]
