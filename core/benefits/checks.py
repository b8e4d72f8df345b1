"""变化核查 (ChangeCheck): a change recorded after a decision fixed an amount becomes a to-do, never a silent
change of the amount. The kit part, for any bureau whose amounts are fixed by decision:

- the registry publishes household changes (core.registry.events.publish_household_change);
- a bureau app subscribes and calls `change_checks_note` for the entitlements it pays on a decision
  (assistance.checks does it for 低保: households without a review in hand);
- the caseworker closes a check with `change_check_close`: a review opened (the bureau's own service,
  whose case is linked) or a written finding that nothing changes.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.workflow.services import TransitionError

from .models import ChangeCheck, Entitlement

FINDING_MAX = 1000


def _entry(what: str, actor, at: datetime.datetime) -> dict[str, str]:
    # Local time (Asia/Shanghai), as the page shows it.
    at = timezone.localtime(at).isoformat(timespec="seconds")
    return {"at": at, "what": what, "by": str(actor) if actor else "系统"}


@transaction.atomic
def change_checks_note(entitlement_ids: Iterable[int], what: str, actor=None) -> list[ChangeCheck]:
    """Add `what` to the open check of each entitlement, opening one where there is none. Set-based: two
    queries and one insert for any number of entitlements; safe against a concurrent note (the database
    allows one open check per entitlement: the loser of a race adds to the winner's check)."""
    ids = sorted(set(entitlement_ids))
    if not ids:
        return []
    now = timezone.now()
    entry = _entry(what, actor, now)
    open_checks = {
        c.entitlement_id: c
        for c in ChangeCheck.objects.select_for_update().filter(
            entitlement_id__in=ids, status=ChangeCheck.Status.OPEN
        )
    }
    for check in open_checks.values():
        check.changes = [*check.changes, entry]
        check.save(update_fields=["changes"])
    missing = [i for i in ids if i not in open_checks]
    created = []
    if missing:
        rows = Entitlement.objects.filter(pk__in=missing).values_list(
            "pk", "household_id", "person_id", "region_code"
        )
        for pk, household_id, person_id, region_code in rows:
            check = ChangeCheck(
                entitlement_id=pk,
                household_id=household_id,
                person_id=person_id,
                region_code=region_code,
                changes=[entry],
            )
            try:
                with transaction.atomic():
                    check.save()
            except IntegrityError:
                # Opened a moment ago by another transaction: add to it instead.
                check = ChangeCheck.objects.select_for_update().get(
                    entitlement_id=pk, status=ChangeCheck.Status.OPEN
                )
                check.changes = [*check.changes, entry]
                check.save(update_fields=["changes"])
            created.append(check)
    return [*open_checks.values(), *created]


@transaction.atomic
def change_check_close(
    *, check: ChangeCheck, actor, status: str, finding: str = "", review_case=None
) -> ChangeCheck:
    """办结: `status` REVIEW with the review's case (the finding says why), or NO_CHANGE with a written
    finding (required). Refused in Chinese when the check is out of the actor's scope or already closed."""
    locked = ChangeCheck.objects.visible_to(actor).select_for_update().filter(pk=check.pk).first()
    if locked is None:
        raise TransitionError("该变化核查不存在或不在您的数据范围内")
    if not locked.is_open:
        raise TransitionError(f"该变化核查已办结（{locked.get_status_display()}），不能重复办理")
    finding = (finding or "").strip()
    if status == ChangeCheck.Status.NO_CHANGE and not finding:
        raise ValidationError({"finding": "请填写核查结论（为何无需调整待遇）"})
    if len(finding) > FINDING_MAX:
        raise ValidationError({"finding": f"核查结论不能超过{FINDING_MAX}字"})
    if status == ChangeCheck.Status.REVIEW and review_case is None:
        raise ValidationError({"status": "发起复核须关联复核案件"})
    if status not in (ChangeCheck.Status.REVIEW, ChangeCheck.Status.NO_CHANGE):
        raise ValidationError({"status": "请选择办理结果"})
    locked.status = status
    locked.finding = finding
    locked.review_case = review_case
    locked.closed_at = timezone.now()
    locked.closed_by = actor
    locked.save(update_fields=["status", "finding", "review_case", "closed_at", "closed_by"])
    return locked
