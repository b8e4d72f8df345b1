"""送达 of a flow's decision notice: the POST view a flow's URLconf adds, and what its detail page shows.

A bureau declares what its notice of one application is (`DecisionNotice`: the document code, its title,
the day it was decided — None while undecided) in a function `notice_of(application)`; the kit does the
rest: `delivery_view(flow, notice_of)` records the delivery through `services.decision_delivery_record`
(scoped by the flow's queryset and section like every page of the flow), and
`{% load delivery %}{% delivery_card case notice url %}` shows the delivery or the form on the page."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from core.lists import guarded

from .forms import DecisionDeliveryForm
from .services import decision_delivery_record

# The id of the delivery card on the detail page (workflow/_delivery.html), where the user lands.
DELIVERY_ANCHOR = "delivery"


@dataclass(frozen=True)
class DecisionNotice:
    """One printable decision notice of a case: `document` (a code, one per case: "decision"),
    its `title` as printed (特困人员救助供养批准决定书 …), the day it was decided, and whom it is addressed to."""

    document: str
    title: str
    decided_on: datetime.date
    recipient: str = ""


def delivery_view(flow, notice_of: Callable[[Any], DecisionNotice | None]):
    """登记送达 of `flow`'s decision notice: POST only, the user needs `workflow.add_case` in the flow's
    section; an application outside the user's scope, or not decided yet, is a 404."""

    @require_POST
    @guarded("workflow.add_case", flow.section)
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        try:
            application = flow.queryset(request.user).get(pk=pk)
        except flow.model.DoesNotExist:
            raise Http404("申请不存在") from None
        notice = notice_of(application)
        if notice is None:
            raise Http404("尚未作出决定")
        form = DecisionDeliveryForm(request.POST)
        url = f"{flow.reverse('detail', application.pk)}#{DELIVERY_ANCHOR}"
        if not form.is_valid():
            messages.error(request, _errors(form.errors))
            return redirect(url)
        try:
            delivery = decision_delivery_record(
                case=application.case,
                document=notice.document,
                document_label=notice.title,
                decided_on=notice.decided_on,
                actor=request.user,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(
                request, f"已登记送达：{delivery.document_label}于{delivery.delivered_on:%Y-%m-%d}送达"
            )
        return redirect(url)

    return view


def _errors(errors) -> str:
    """A bound form's errors in one Chinese line: 送达日期：请输入有效的日期 …"""
    fields = DecisionDeliveryForm.base_fields
    parts = []
    for name, messages_ in errors.items():
        label = fields[name].label if name in fields else ""
        parts += [f"{label}：{m}" if label else str(m) for m in messages_]
    return "未登记送达：" + "；".join(parts)
