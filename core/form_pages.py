"""The POST half every form page shares: call one service with the form's data; a service's ValidationError
goes beside the fields it names and the page is shown again; otherwise a success message and a redirect
(which `core.forms_once.once_per_form` remembers for a resubmitted form).

    form = RectifyForm(request.POST or None)
    saved = save_and_redirect(
        request, form, lambda data: services.hazard_rectify(hazard=hazard, actor=request.user, **data),
        success="整改情况已登记", to=facility_url,
    )
    return saved or render(request, "…/form.html", {"form": form}, status=form_status(form))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

T = TypeVar("T")


def apply_service_errors(
    error: ValidationError,
    form: forms.Form,
    formset=None,
    *,
    rows: str = "",
    formset_rows: Sequence[forms.Form] | None = None,
) -> None:
    """Put a service's errors where the user reads them: a field's beside the field, "<rows>.<i>.<field>"
    into row i of the formset (`formset_rows`, the rows as the view passed them to the service; default the
    formset's live rows), "<rows>" above the formset, anything else at the top of the form."""
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    if formset is not None and formset_rows is None:
        formset_rows = formset.live_forms() if hasattr(formset, "live_forms") else formset.forms
    for key, field_messages in error.message_dict.items():
        if formset is not None and rows and key.startswith(f"{rows}."):
            _, index, field = key.split(".", 2)
            row = formset_rows[int(index)]
            for message in field_messages:
                row.add_error(field if field in row.fields else None, message)
        elif formset is not None and rows and key == rows:
            formset._non_form_errors = formset.error_class([*formset.non_form_errors(), *field_messages])
        else:
            for message in field_messages:
                form.add_error(key if key in form.fields else None, message)


def save_and_redirect(
    request: HttpRequest,
    form: forms.Form,
    save: Callable[[dict[str, Any]], T],
    *,
    success: str | Callable[[T], str],
    to: str | Callable[[T], str],
) -> HttpResponse | None:
    """On a valid POST, `save` (one service call) gets the cleaned data. A service's ValidationError goes
    beside the form's fields and None is returned: the view shows the form again. Otherwise the user is
    told `success` and redirected to `to` (either may be computed from what `save` returned). None on a
    GET or an invalid form too."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        result = save(form.cleaned_data)
    except ValidationError as exc:
        apply_service_errors(exc, form)
        return None
    messages.success(request, success(result) if callable(success) else success)
    return redirect(to(result) if callable(to) else to)


def form_status(form: forms.Form) -> int:
    """400 for a form posted with errors (tests and tools see the refusal), else 200."""
    return 400 if form.is_bound and form.errors else 200
