"""Ready-made guards for case-type declarations (see engine.Guard): a guard looks at the case and who acts
and returns None when the move is allowed, or the reason in Chinese why not.

They read the workflow models, so they live here and not in engine.py: the engine (declarations) imports
no model, and models.py may import the engine."""

from __future__ import annotations

from typing import Any

from .models import Case, PublicNotice


def require_notice_passed(case: Case, user: Any) -> str | None:
    """The case has a 公示 that ended without objection and has been closed."""
    notices = list(case.notices.all())
    if not notices:
        return "尚未进行公示"
    if any(n.closed_at is None for n in notices):
        return "公示尚未结束"
    if notices[0].status != PublicNotice.Status.PASSED:
        return "公示有异议，需核实处理"
    return None
