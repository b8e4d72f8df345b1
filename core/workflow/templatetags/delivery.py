"""`{% load delivery %}{% delivery_card case url %}`: the 送达 of a case's decision notice on its detail page —
the recorded delivery, or (for a user who may record it) the form posting to `url` (core.workflow.delivery)."""

from __future__ import annotations

from django import template

from core.workflow.forms import DecisionDeliveryForm
from core.workflow.models import DecisionDelivery

register = template.Library()


@register.inclusion_tag("workflow/_delivery.html", takes_context=True)
def delivery_card(context, case, url: str, document: str = "decision") -> dict:
    user = context.get("user")
    delivery = (
        DecisionDelivery.objects.filter(case_id=case.pk, document=document)
        .select_related("recorded_by")
        .first()
    )
    can_record = delivery is None and user is not None and user.has_perm("workflow.add_case")
    return {
        "delivery": delivery,
        "form": DecisionDeliveryForm(recipient=case.applicant_name) if can_record else None,
        "url": url,
        "csrf_token": context.get("csrf_token"),
    }
