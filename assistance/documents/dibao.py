"""Printed documents of the 低保 application (WeasyPrint through core.pdf.render_pdf):

- 审批表 (最低生活保障审核确认审批表): household, members, incomes, investigation, 公示, decision and the
  case's timeline — each step's actor and date in the signature column;
- 决定书: 批准 with the amount explained line by line and the start month, or 不予批准 with the written
  reasons (民发〔2021〕57号 第二十一条) and the right to 行政复议/行政诉讼.

The gathering (scoped by the user) is separate from the HTML templates that format it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone

from core.benefits.calculators import explanation_steps
from core.pdf import render_pdf
from core.registry.choices import IncomeTreatment, income_treatment
from core.registry.models import IncomeRecord, Person
from core.workflow.delivery import DecisionNotice
from core.workflow.models import DecisionDelivery, PublicNotice, TransitionLog

from .. import rules, selectors
from ..models import AssistanceApplication, Decision, Investigation
from .common import appeal_rights, pdf_get_view, pdf_response

DOCUMENT = "decision"  # the one decision notice of a case, as its 送达 is recorded


@dataclass
class MemberRow:
    person: Person
    age: int
    covered: bool


@dataclass
class ApplicationDocument:
    application: AssistanceApplication
    members: list[MemberRow]
    incomes: list[tuple[IncomeRecord, str]]
    investigations: list[Investigation]
    notices: list[PublicNotice]
    decision: Decision | None
    timeline: list[TransitionLog]
    today: datetime.date
    explanation_steps: list[Any] = field(default_factory=list)


def application_document(user, pk: int) -> ApplicationDocument:
    """Everything the two documents print, for one application in the user's scope (DoesNotExist
    otherwise)."""
    application = selectors.dibao_application_get(user, pk)
    today = timezone.localdate()
    covered = set(application.members.values_list("pk", flat=True))
    on_date = application.applied_on
    members = [
        MemberRow(p, rules.age_on(p.birth_date, on_date), p.pk in covered)
        for p in application.household.members.order_by("pk")
    ]
    treatments = dict(IncomeTreatment.choices)
    incomes = [
        (r, treatments.get(income_treatment(r.kind), ""))
        for r in IncomeRecord.objects.filter(household_id=application.household_id)
        .filter(period_start__lte=today)
        .filter(Q(period_end__isnull=True) | Q(period_end__gte=on_date))
        .select_related("person")
        .order_by("period_start", "id")
    ]
    decision = (
        Decision.objects.filter(application=application).select_related("decided_by", "entitlement").first()
    )
    document = ApplicationDocument(
        application=application,
        members=members,
        incomes=incomes,
        investigations=list(
            Investigation.objects.filter(application=application)
            .prefetch_related("visitors")
            .order_by("recorded_at", "id")
        ),
        notices=list(PublicNotice.objects.filter(case_id=application.pk).order_by("start_date", "id")),
        decision=decision,
        timeline=list(
            TransitionLog.objects.filter(case_id=application.pk).select_related("actor").order_by("at", "id")
        ),
        today=today,
    )
    if decision is not None and decision.explanation:
        document.explanation_steps = explanation_steps(decision.explanation)
    return document


def _document(request: HttpRequest, pk: int) -> ApplicationDocument:
    try:
        return application_document(request.user, pk)
    except AssistanceApplication.DoesNotExist:
        raise Http404("申请不存在") from None


@pdf_get_view
def dibao_form_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """最低生活保障审核确认审批表."""
    doc = _document(request, pk)
    content = render_pdf("assistance/print/dibao_form.html", {"doc": doc, "case": doc.application.case})
    return pdf_response(content, f"低保审批表_{doc.application.case.number}.pdf")


@pdf_get_view
def dibao_decision_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """批准决定书 / 不予批准决定书 — only once the decision is made."""
    doc = _document(request, pk)
    if doc.decision is None:
        raise Http404("尚未作出审核确认决定")
    content = render_pdf(
        "assistance/print/dibao_decision.html",
        {
            "doc": doc,
            "case": doc.application.case,
            "decision": doc.decision,
            **appeal_rights(),
            "delivery": DecisionDelivery.objects.filter(
                case_id=doc.application.pk, document=DOCUMENT
            ).first(),
        },
    )
    kind = "批准决定书" if doc.decision.approved else "不予批准决定书"
    return pdf_response(content, f"低保{kind}_{doc.application.case.number}.pdf")


def dibao_decision_notice(application: AssistanceApplication) -> DecisionNotice | None:
    """The 决定书 above as its 送达 records it (core.workflow.delivery), once the decision is made."""
    decision = Decision.objects.filter(application=application).first()
    if decision is None:
        return None
    kind = "批准决定书" if decision.approved else "不予批准决定书"
    return DecisionNotice(
        DOCUMENT,
        f"最低生活保障{kind}",
        timezone.localdate(decision.decided_at),
        application.case.applicant_name,
    )
