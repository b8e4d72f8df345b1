"""What every printed decision notice of the bureau shares: the appeal rights, the PDF response, and the two
views a flow's notice needs — the PDF (`notice_pdf_view`) and its 送达 (`core.workflow.delivery`).

A flow declares one function `build(application) -> NoticeDocument | None` (None while undecided); the
views take the application from the flow's scoped queryset (outside the user's region: 404) in the
flow's section, like every page of the flow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from core.lists import guarded
from core.pdf import render_pdf
from core.workflow.delivery import DecisionNotice, delivery_view
from core.workflow.models import DecisionDelivery

# 《中华人民共和国行政复议法》第二十条 (60 days); 《中华人民共和国行政诉讼法》第四十六条 (6 months).
APPEAL_DAYS = 60
LAWSUIT_MONTHS = 6


def appeal_rights() -> dict[str, int]:
    """The context of `assistance/print/_appeal_rights.html`, printed on every decision notice."""
    return {"appeal_days": APPEAL_DAYS, "lawsuit_months": LAWSUIT_MONTHS}


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename=\"notice.pdf\"; filename*=UTF-8''{quote(filename)}"
    return response


def pdf_get_view(view):
    """GET, login and `workflow.view_case` (the 低保 PDFs; the notices below check the section too)."""
    return require_http_methods(["GET"])(
        login_required(permission_required("workflow.view_case", raise_exception=True)(view))
    )


@dataclass
class NoticeDocument:
    """A decision notice of one application: what the delivery records (`notice`) and what the template
    prints (`context`, beside `case`, `application`, `notice`, the appeal rights and the delivery)."""

    notice: DecisionNotice
    template: str
    context: dict[str, Any] = field(default_factory=dict)


Builder = Callable[[Any], "NoticeDocument | None"]


def _application(flow, request: HttpRequest, pk: int):
    try:
        return flow.queryset(request.user).get(pk=pk)
    except flow.model.DoesNotExist:
        raise Http404("申请不存在") from None


def notice_pdf_view(flow, build: Builder):
    @require_http_methods(["GET"])
    @guarded("workflow.view_case", flow.section)
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        application = _application(flow, request, pk)
        document = build(application)
        if document is None:
            raise Http404("尚未作出决定")
        case = application.case
        delivery = DecisionDelivery.objects.filter(case_id=case.pk, document=document.notice.document).first()
        context = {
            "case": case,
            "application": application,
            "notice": document.notice,
            "delivery": delivery,
            **appeal_rights(),
            **document.context,
        }
        return pdf_response(
            render_pdf(document.template, context), f"{document.notice.title}_{case.number}.pdf"
        )

    return view


def notice_delivery_view(flow, build: Builder):
    """登记送达 of the notice `build` makes (core.workflow.delivery)."""

    def notice_of(application) -> DecisionNotice | None:
        document = build(application)
        return document.notice if document is not None else None

    return delivery_view(flow, notice_of)


def notice_urls(flow, build: Builder) -> list:
    """The two URLs of a flow's decision notice: `<name>_decision_pdf` and `<name>_delivery`."""
    from django.urls import path

    return [
        path("<int:pk>/decision.pdf", notice_pdf_view(flow, build), name=flow.url_name("decision_pdf")),
        path("<int:pk>/delivery/", notice_delivery_view(flow, build), name=flow.url_name("delivery")),
    ]
