"""Small display helpers for registry pages."""

from __future__ import annotations

from django import template

from core.registry.choices import IncomeTreatment

register = template.Library()

TREATMENT_CLASSES = {
    IncomeTreatment.COUNTED: "text-bg-primary",
    IncomeTreatment.EXCLUDED: "text-bg-secondary",
    IncomeTreatment.DEDUCTED: "text-bg-warning",
}


@register.filter
def treatment_label(value: str) -> str:
    try:
        return IncomeTreatment(value).label
    except ValueError:
        return value


@register.filter
def treatment_class(value: str) -> str:
    return TREATMENT_CLASSES.get(value, "text-bg-light")


@register.filter
def filesize_cn(size: int | None) -> str:
    if not size:
        return ""
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{max(size / 1024, 0.1):.0f} KB"
