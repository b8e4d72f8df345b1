"""Pages of the district's 抽查 of the streets' 低保 confirmations: the list of sampled cases (core.lists),
the draw page (科长: 抽取 a month's sample, and the samples drawn) and one sampled case's result form."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from core.accounts.sections import has_section_role
from core.benefits.months import add_months, month_start
from core.form_pages import form_status, save_and_redirect
from core.forms_once import once_per_form
from core.lists import Col, RecordList, RegionFilterSet, guarded
from core.registry.forms import BootstrapMixin

from . import services
from .models import DelegationCheck, DelegationSample

VIEW_PERMISSION = "workflow.view_case"
SECTION = "assistance"
PENDING = "pending"


class CheckFilterSet(RegionFilterSet):
    result = django_filters.ChoiceFilter(
        label="抽查结果",
        method="filter_result",
        choices=[(PENDING, "待登记"), *DelegationCheck.Result.choices],
        empty_label="全部结果",
    )
    search_fields = ("case__number__istartswith", "case__applicant_name__contains")

    def filter_result(self, queryset, name, value):
        return queryset.filter(result="" if value == PENDING else value)


class DelegationCheckList(RecordList):
    """委托确认抽查: the cases drawn from the streets' 低保 confirmations, each with its check."""

    name = "delegation_checks"
    namespace = "assistance"
    title = "委托确认抽查"
    heading = "委托街道确认低保抽查"
    model = DelegationCheck
    permission = VIEW_PERMISSION
    section = SECTION
    filterset = CheckFilterSet
    select_related = ("sample", "case", "case__region", "confirmed_by", "checked_by", "review__case")
    default_sort = "-sample__month"
    tiebreak = ("case_id",)
    search_placeholder = "案件编号 / 申请人"
    list_intro = (
        "委托街道（乡镇）确认的低保案件，由区民政局按月随机抽查（抽查比例为业务参数，随机种子留存，可复现）；"
        "抽查不符合的，发起动态复核。"
    )
    detail_url_name = "assistance:delegation_check"
    create_url_name = "assistance:delegation_draw"
    create_label = "抽取样本"
    create_permission = "workflow.approve_case"
    columns = (
        Col("确认月份", "sample.month", kind="month", sort="sample__month"),
        Col("案件编号", "case.number", sort="case__number", link=True),
        Col("申请人", "case.applicant_name"),
        Col("所属社区", "case.region.name"),
        Col("街道确认人", "confirmed_by"),
        Col("抽查结果", lambda c: c.get_result_display() or "待登记"),
        Col("抽查意见", "note"),
        Col("抽查人", "checked_by", in_list=False),
        Col("复核案件", "review.case.number"),
    )


class DrawForm(BootstrapMixin, forms.Form):
    month = forms.ChoiceField(label="确认月份", help_text="抽查该月街道确认批准的低保案件；每月抽取一次")

    def __init__(self, *args, today: datetime.date, drawn: dict[datetime.date, DelegationSample], **kwargs):
        super().__init__(*args, **kwargs)
        self.drawn = drawn
        last = add_months(month_start(today), -1)
        months = [add_months(last, -i) for i in range(12)]
        self.fields["month"].choices = [
            (m.isoformat(), f"{m.year}年{m.month}月" + ("（已抽取）" if m in drawn else "")) for m in months
        ]
        self._style()

    def clean_month(self) -> datetime.date:
        month = datetime.date.fromisoformat(self.cleaned_data["month"])
        sample = self.drawn.get(month)
        if sample is not None:
            # The service would return the sample already drawn; saying so beats a second "抽取成功".
            raise forms.ValidationError(
                f"{month.year}年{month.month}月的样本已于{timezone.localtime(sample.drawn_at):%Y-%m-%d %H:%M}"
                f"由{sample.drawn_by}抽取（街道确认批准 {sample.population} 件），同一月份只抽取一次"
            )
        return month


class CheckForm(BootstrapMixin, forms.Form):
    result = forms.ChoiceField(label="抽查结果", choices=[("", "请选择"), *DelegationCheck.Result.choices])
    note = forms.CharField(
        label="抽查意见",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="不符合的，写明不符合的情形；将发起该户的低保动态复核",
    )


@require_http_methods(["GET", "POST"])
@guarded(VIEW_PERMISSION, SECTION)
@once_per_form
def draw_view(request: HttpRequest) -> HttpResponse:
    may_draw = has_section_role(request.user, SECTION, services.CHECKER_ROLE)
    samples = DelegationSample.objects.visible_to(request.user).select_related("drawn_by")
    drawn = {s.month: s for s in samples.filter(region_code=getattr(request.user.region, "code", None))}
    form = DrawForm(request.POST or None, today=timezone.localdate(), drawn=drawn)
    if request.method == "POST" and not may_draw:
        form.is_valid()
        form.add_error(None, "委托确认抽查由社会救助科科长办理")
    else:
        saved = save_and_redirect(
            request,
            form,
            lambda data: services.delegation_sample_draw(month=data["month"], actor=request.user),
            success=lambda s: (
                f"{s.month.year}年{s.month.month}月样本：街道确认批准 {s.population} 件，"
                f"抽取 {s.checks.count()} 件（比例 {s.rate:.0%}，随机种子 {s.seed}）"
            ),
            to=reverse("assistance:delegation_checks_list"),
        )
        if saved:
            return saved
    samples = samples[:24]
    return render(
        request,
        "assistance/delegation/draw.html",
        {
            "form": form,
            "may_draw": may_draw,
            "samples": samples,
            "crumbs": [(DelegationCheckList.title, reverse("assistance:delegation_checks_list"))],
        },
        status=form_status(form),
    )


@require_http_methods(["GET", "POST"])
@guarded(VIEW_PERMISSION, SECTION)
@once_per_form
def check_view(request: HttpRequest, pk: int) -> HttpResponse:
    check = DelegationCheckList.queryset(request.user).filter(pk=pk).first()
    if check is None:
        raise Http404("抽查案件不存在或不在您的数据范围内")
    may_check = not check.result and has_section_role(request.user, SECTION, services.CHECKER_ROLE)
    form = CheckForm(request.POST or None)
    if request.method == "POST":
        if not may_check:
            form.is_valid()
            form.add_error(None, "该案件的抽查结果已登记，或您不是社会救助科科长")
        else:
            saved = save_and_redirect(
                request,
                form,
                lambda data: services.delegation_check_record(check=check, actor=request.user, **data),
                success=lambda c: (
                    "抽查结果已登记" + (f"，已发起复核 {c.review.case.number}" if c.review_id else "")
                ),
                to=reverse("assistance:delegation_check", args=[check.pk]),
            )
            if saved:
                return saved
    return render(
        request,
        "assistance/delegation/check.html",
        {
            "check": check,
            "form": form,
            "may_check": may_check,
            "crumbs": [(DelegationCheckList.title, reverse("assistance:delegation_checks_list"))],
        },
        status=form_status(form) if request.method == "POST" else 200,
    )


urlpatterns = [
    DelegationCheckList.list_path("dibao/delegation/"),
    path("dibao/delegation/draw/", draw_view, name="delegation_draw"),
    path("dibao/delegation/<int:pk>/", check_view, name="delegation_check"),
]
