"""Filters every page uses: money as ¥1,234.50, dates as 2026年11月23日, masked personal data."""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils import timezone

from core.registry import masking

register = template.Library()


@register.filter
def money(value) -> str:
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return str(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


@register.filter
def cn_date(value) -> str:
    if not value:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}"
    return f"{value.year}年{value.month}月{value.day}日"


@register.filter
def cn_month(value) -> str:
    if not value:
        return ""
    return f"{value.year}年{value.month}月"


@register.filter
def mask_id(value) -> str:
    return masking.mask_id_number(value)


@register.filter
def mask_phone(value) -> str:
    return masking.mask_phone(value)


@register.filter
def mask_account(value) -> str:
    return masking.mask_account(value)


@register.simple_tag(takes_context=True)
def querystring_replace(context, **kwargs) -> str:
    """The current query string with some parameters replaced (pagination and sort links keep filters)."""
    query = context["request"].GET.copy()
    for key, value in kwargs.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"
