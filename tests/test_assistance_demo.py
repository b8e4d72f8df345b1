"""The 社会救助 demo seeder: approved 低保 households with lines in the current month's run, open
applications at every step (some overdue) on the caseworkers' to-do lists, reviews due — and a second
`seed_demo` changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from assistance.models import AssistanceApplication, Decision, DibaoReview
from core.accounts.models import User
from core.benefits.models import Entitlement, PaymentLine, PaymentRun
from core.benefits.months import month_start
from core.workflow.models import Case, TransitionLog
from core.workflow.selectors import todo_counts


def _counts():
    return (
        AssistanceApplication.objects.count(),
        Decision.objects.count(),
        Entitlement.objects.count(),
        DibaoReview.objects.count(),
        Case.objects.count(),
        TransitionLog.objects.count(),
        PaymentLine.objects.count(),
    )


@pytest.mark.django_db
def test_demo_seeder_is_idempotent_and_fills_the_lists():
    call_command("seed_demo", households=600, quiet_accounts=True, stdout=io.StringIO())
    first = _counts()
    call_command("seed_demo", households=600, quiet_accounts=True, stdout=io.StringIO())
    assert _counts() == first

    today = timezone.localdate()
    approved = Decision.objects.filter(approved=True).count()
    assert approved >= 60
    open_applications = AssistanceApplication.objects.filter(is_open=True)
    assert 12 <= open_applications.count() <= 24
    assert len(set(open_applications.values_list("case__status", flat=True))) >= 5
    assert Case.objects.filter(case_type="dibao", is_open=True, due_date__lt=today).exists()
    run = PaymentRun.objects.get(benefit_type__code="dibao", month=month_start(today))
    assert run.status == PaymentRun.Status.DRAFT
    assert run.lines.filter(amount__gt=0).count() == approved
    assert DibaoReview.objects.filter(is_open=True).exists()
    # The caseworkers and the chief have work on their to-do lists.
    chief_todo = todo_counts(User.objects.get(username="kezhang"), today=today)
    assert chief_todo["total"] > 0
    community_todo = sum(
        todo_counts(u, today=today)["total"] for u in User.objects.filter(username__startswith="sq")
    )
    assert community_todo > 0
