"""`{% form_token %}`: the hidden token that makes a create form save once (core.forms_once)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from core.forms_once import FORM_TOKEN_FIELD, new_form_token

register = template.Library()


@register.simple_tag
def form_token() -> str:
    """A fresh token per rendering: a re-rendered form (after errors, or opened again) gets a new one."""
    return format_html('<input type="hidden" name="{}" value="{}">', FORM_TOKEN_FIELD, new_form_token())
