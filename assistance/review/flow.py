"""低保动态复核 declared on the case-flow kit (core/workflow/flows.py): its 台账 and export columns, filters,
the two steps of the review (登记收入, 登记复核结论), the detail blocks and the recomputed amount it proposes.

A review is not an application: the schedule opens it (services.dibao_reviews_schedule, a daily Celery
task), so the flow has no create form."""

from __future__ import annotations

import django_filters
from django.utils import timezone

from core.accounts.templatetags.ui import money
from core.registry.forms import IncomeForm
from core.workflow.flows import (
    PROGRESS,
    CaseFlow,
    Col,
    FlowFilterSet,
    Proposal,
    Step,
    case_columns,
    save_form,
)

from ..models import DibaoReview
from . import prenotice, selectors, services
from .case_types import DIBAO_REVIEW, ReviewStatus
from .forms import PreNoticeIssueForm, PreNoticeResponseForm, ReviewDecisionForm


class ReviewFilterSet(FlowFilterSet):
    outcome = django_filters.ChoiceFilter(
        label="复核结论", choices=DibaoReview.Outcome.choices, method="filter_outcome", empty_label="全部结论"
    )
    frequency = django_filters.ChoiceFilter(
        label="复核周期", choices=DibaoReview.Frequency.choices, empty_label="全部周期"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = self.filters["status"].extra["choices"]
        self.filters["status"].extra["choices"] = [choices[0], ("overdue", "已超期"), *choices[1:]]

    def filter_status(self, queryset, name, value):
        if value == "overdue":
            return queryset.filter(is_open=True, case__due_date__lt=timezone.localdate())
        return super().filter_status(queryset, name, value)

    def filter_outcome(self, queryset, name, value):
        # A conclusion counts once the chief has confirmed it.
        return queryset.filter(outcome=value, is_open=False)


class ReviewFlow(CaseFlow):
    name = "review"
    namespace = "assistance"
    title = "低保动态复核"
    model = DibaoReview
    case_type = DIBAO_REVIEW
    filterset = ReviewFilterSet
    select_related = ("case", "case__region", "household")
    default_sort = "due_on"
    search_placeholder = "案件编号 / 户主 / 户编号"
    applicant_label = "户主"
    list_intro = (
        "家庭情况稳定的每年复核一次，收入不稳定或有劳动能力成员的每半年复核一次；"
        "系统在应复核日期前30天自动发起复核。"
    )
    columns = (
        *case_columns(Col("户主", "case.applicant_name")),
        Col("复核周期", "get_frequency_display"),
        Col("应复核日期", "due_on", kind="date", sort="due_on"),
        *PROGRESS,
        Col("复核结论", "get_outcome_display"),
        Col("原月保障金额（元）", "previous_amount", kind="money"),
        Col("新月保障金额（元）", "new_amount", kind="money"),
        Col("变更起始月份", "effective_month", kind="month", in_list=False),
        Col("渐退期（月）", "taper_months", in_list=False),
        Col("理由", "reasons", in_list=False),
    )
    steps = (
        Step(
            "income_add",
            "登记收入",
            IncomeForm,
            save=save_form(
                services.dibao_review_income_add, "收入已登记，请重新核算并登记复核结论", record="review"
            ),
            statuses=(ReviewStatus.REVIEWING,),
            form_kwargs=lambda review: {"household": review.household},
            anchor="incomes",
        ),
        Step(
            "decide",
            "登记复核结论",
            ReviewDecisionForm,
            save=save_form(services.dibao_review_decide, "复核结论已登记，请提交科长确认", record="review"),
            statuses=(ReviewStatus.REVIEWING,),
            initial=lambda review: {
                "findings": review.findings,
                "outcome": review.outcome,
                "reasons": review.reasons,
                "taper_months": review.taper_months,
            },
            form_kwargs=lambda review: {"max_taper_months": services.max_taper_months(timezone.localdate())},
        ),
        # 拟停保 (issue 13 item 12): a 停发 is told to the household first, which may state its case.
        Step(
            "prenotice_issue",
            "发出拟停保告知",
            PreNoticeIssueForm,
            save=save_form(
                prenotice.stop_prenotice_issue,
                lambda notice: (
                    f"已发出拟停保告知，陈述申辩期至{notice.deadline:%Y-%m-%d}止，请打印告知书送达家庭"
                ),
                record="review",
            ),
            statuses=prenotice.OPEN_STATUSES,
            applies=lambda review: (
                review.outcome == DibaoReview.Outcome.STOP and not prenotice.prenotice_of(review)
            ),
            anchor="prenotice",
        ),
        Step(
            "prenotice_response",
            "登记家庭意见",
            PreNoticeResponseForm,
            save=save_form(prenotice.stop_prenotice_response_record, "家庭意见已登记", record="review"),
            statuses=prenotice.OPEN_STATUSES,
            applies=lambda review: (n := prenotice.prenotice_of(review)) is not None and not n.response,
            anchor="prenotice",
        ),
    )
    blocks = {
        "dates": "assistance/review/_dates.html",
        "summary": "assistance/review/_summary.html",
        "assessment": "assistance/review/_assessment.html",
    }
    detail_selector = selectors.review_detail

    @classmethod
    def proposed_amount(cls, application, context) -> Proposal | None:
        """The amount recomputed from the incomes recorded now, against what the household is paid."""
        d = context["d"]
        computed = d.recomputed
        current = d.current_amount
        if computed is None:
            return Proposal("按现有收入重新核算", None, error=d.recompute_error)
        label = f"按现有收入重新核算（{computed.month.year}年{computed.month.month}月起，每月）"
        lines = [("现月保障金额", money(current) if current is not None else "—")]
        if current is not None:
            change = computed.amount - current
            lines.append(("变化", f"{'+' if change > 0 else ''}{money(change)}" if change else "无变化"))
        note = ""
        if not computed.eligible:
            note = (
                "按现有收入核算，家庭月人均收入不低于低保标准，应作停发；因就业增加收入的可给予不超过"
                f"{d.max_taper_months}个月的渐退期。"
            )
        return Proposal(label, computed.amount, lines=lines, note=note)
