"""Printed documents of the 社会救助 bureau (WeasyPrint through core.pdf.render_pdf; templates in
assistance/templates/assistance/print/):

- dibao.py: the 低保 审批表 and 决定书;
- notices.py: the decision notices of 特困, 临时救助, 两项补贴 and the 低保 dynamic review (增发/减发/停发/渐退/维持);
- common.py: what they share — the appeal rights (行政复议 60 days, 行政诉讼 6 months), the PDF response, the
  scoped PDF and 送达 views of a flow's notice."""

from .common import APPEAL_DAYS, LAWSUIT_MONTHS, appeal_rights, notice_urls
from .dibao import application_document, dibao_decision_notice, dibao_decision_pdf, dibao_form_pdf
from .notices import disability_notice, review_notice, tekun_notice, temp_notice

__all__ = [
    "APPEAL_DAYS",
    "LAWSUIT_MONTHS",
    "application_document",
    "appeal_rights",
    "dibao_decision_notice",
    "dibao_decision_pdf",
    "dibao_form_pdf",
    "disability_notice",
    "notice_urls",
    "review_notice",
    "tekun_notice",
    "temp_notice",
]
