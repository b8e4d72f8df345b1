"""Ready-made guards for case-type declarations (see engine.Guard): a guard looks at the case and who acts
and returns None when the move is allowed, or the reason in Chinese why not.

They read the workflow models, so they live here and not in engine.py: the engine (declarations) imports
no model, and models.py may import the engine."""

from __future__ import annotations

from typing import Any

from .models import Case, PublicNotice


def require_notice_passed(case: Case, user: Any) -> str | None:
    """The case has a 公示 that ended without objection and has been closed."""
    # The latest posted first: a new 公示 after an objection may start on the day of the objected one (or
    # before it, when that one was arranged ahead), so the start date does not say which is the latest.
    notices = sorted(case.notices.all(), key=lambda n: (n.created_at, n.pk), reverse=True)
    if not notices:
        return "尚未进行公示"
    if any(n.closed_at is None for n in notices):
        return "公示尚未结束"
    if notices[0].status != PublicNotice.Status.PASSED:
        return "公示有异议，需核实处理"
    return None
