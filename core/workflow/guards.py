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


def require_notice_objected(case: Case, user: Any) -> str | None:
    """The latest 公示 met an objection: only then does the case go back to be investigated again
    (民发〔2021〕57号 第十九条, 民发〔2021〕43号 第十五条). The default guard of the engine's
    notice_transitions()."""
    # The latest posted, as in require_notice_passed: a 公示 after an objection may start before it.
    notice = case.notices.order_by("-created_at", "-id").first()
    if notice is None:
        return "尚未进行公示"
    if notice.status != PublicNotice.Status.OBJECTED:
        return "公示无异议，无需重新调查"
    return None
