"""Idempotent creates: each rendered form carries a token, and a form is saved once per token.

A double click, a retried POST (the browser's "resend", a proxy retry) or two tabs submitting the same
rendered page would otherwise create two income records or two cases. Every create form renders
`{% form_token %}` (template library `forms_once`), and its view is decorated with `@once_per_form`:

- On a POST carrying a token, the view runs inside one transaction that first INSERTs the token
  (unique per user). A redirect — the view's success — stores its Location as the result and commits;
  any other answer (the form with its errors) rolls the token back, so the user corrects the same form
  and submits it again.
- If the INSERT hits the unique constraint, the form was already submitted (a concurrent identical POST
  waits on the unique index until the first commits): the view does not run, and the user is sent to
  the first submission's result with a message.
- A POST without a token (old clients, tests, API-like callers) runs the view as before.

Tokens are kept about two days: one INSERT in `PURGE_ONE_IN` deletes the older ones (one indexed
DELETE, no scheduler needed)."""

from __future__ import annotations

import datetime
import functools
import re
import secrets

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from core.accounts.models import SubmittedForm

FORM_TOKEN_FIELD = "form_token"
ALREADY_SUBMITTED_MESSAGE = "该表单已提交，未重复保存"
TOKEN_LIFETIME = datetime.timedelta(days=2)
PURGE_ONE_IN = 1000

_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_form_token() -> str:
    """A random URL-safe token for one rendered form (32 characters)."""
    return secrets.token_urlsafe(24)


def purge_expired_form_tokens(*, now: datetime.datetime | None = None) -> int:
    """Delete the tokens older than TOKEN_LIFETIME; returns how many were deleted."""
    cutoff = (now or timezone.now()) - TOKEN_LIFETIME
    deleted, _ = SubmittedForm.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def _submitted_token(request: HttpRequest) -> str:
    if request.method != "POST" or not request.user.is_authenticated:
        return ""
    token = request.POST.get(FORM_TOKEN_FIELD, "")
    # Anything that is not a token we could have rendered is treated as no token at all.
    return token if _TOKEN_PATTERN.fullmatch(token) else ""


def _is_success(response: HttpResponse) -> bool:
    return 300 <= response.status_code < 400 and bool(response.get("Location"))


def _already_submitted(request: HttpRequest, token: str) -> HttpResponse:
    result_url = (
        SubmittedForm.objects.filter(user=request.user, token=token)
        .values_list("result_url", flat=True)
        .first()
    )
    messages.info(request, ALREADY_SUBMITTED_MESSAGE)
    safe = result_url and url_has_allowed_host_and_scheme(
        result_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return HttpResponseRedirect(result_url if safe else request.get_full_path())


def once_per_form(view):
    """Decorate a function view handling GET and POST so that one rendered form is saved at most once.

    Put it closest to the function (below the permission decorators), so refused requests never reach
    the token."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        token = _submitted_token(request)
        if not token:
            return view(request, *args, **kwargs)
        if secrets.randbelow(PURGE_ONE_IN) == 0:
            purge_expired_form_tokens()
        with transaction.atomic():
            try:
                # A savepoint: the unique violation must leave the outer transaction usable. A concurrent
                # INSERT of the same token waits here until the first transaction ends.
                with transaction.atomic():
                    submitted = SubmittedForm.objects.create(user=request.user, token=token)
            except IntegrityError:
                submitted = None
            if submitted is not None:
                response = view(request, *args, **kwargs)
                if _is_success(response):
                    submitted.result_url = response["Location"][:500]
                    submitted.save(update_fields=["result_url"])
                else:
                    # Form errors: nothing was saved, and the same form may be corrected and resubmitted.
                    transaction.set_rollback(True)
                return response
        return _already_submitted(request, token)

    # Like csrf_exempt's mark: functools.wraps carries it through the outer decorators, so a test can
    # check that every create view is covered.
    wrapper.once_per_form = True
    return wrapper
