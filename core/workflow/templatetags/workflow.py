"""`{% load workflow %}`: labels of a case's statuses and transitions for any case type."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from core.workflow.engine import KINDS, find_case_type

register = template.Library()


@register.filter
def status_of(status: str, case) -> str:
    """`{{ log.to_status|status_of:case }}` → the status label in that case's type."""
    if not status:
        return ""
    ct = find_case_type(case.case_type)
    return ct.status_label(status) if ct else status


@register.filter
def kind_label(kind: str) -> str:
    return KINDS.get(kind, "")


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, label: str, current: str) -> str:
    """A column header linking to the list sorted by `key`; clicking the current column reverses it."""
    from core.accounts.templatetags.ui import querystring_replace

    current = current or ""
    if current == key:
        target, arrow = f"-{key}", " ▲"
    elif current == f"-{key}":
        target, arrow = key, " ▼"
    else:
        target, arrow = key, ""
    href = querystring_replace(context, sort=target, page=None)
    return format_html('<a class="text-reset text-decoration-none" href="{}">{}{}</a>', href, label, arrow)
