"""The 拟停保告知书 (issue 13 item 12): printed on the decision-notice frame (assistance/print/_notice.html)
with the household's right to state its case within the period instead of the appeal rights — it is no
decision yet."""

from __future__ import annotations

from core.workflow.delivery import DecisionNotice

from ..documents.common import NoticeDocument
from ..models import DibaoReview
from .prenotice import prenotice_of

DOCUMENT = "stop_prenotice"
TITLE = "最低生活保障拟停发告知书"


def prenotice_document(review: DibaoReview) -> NoticeDocument | None:
    notice = prenotice_of(review)
    if notice is None:
        return None
    return NoticeDocument(
        DecisionNotice(DOCUMENT, TITLE, notice.issued_on, review.case.applicant_name),
        "assistance/print/review_prenotice.html",
        {"prenotice": notice},
    )
