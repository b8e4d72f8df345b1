"""低保动态复核 URLs, included in the `assistance` namespace by assistance/urls.py: the kit's list, detail,
transition, attachment and step pages of `ReviewFlow` under "dibao/reviews/" (review_list, review_detail,
review_income_add, review_decide, review_prenotice_issue, review_prenotice_response, review_transition …),
the notice of the confirmed outcome (review_decision_pdf: 增发/减发/停发/渐退/维持) with its 送达
(review_delivery), and the 拟停保告知书 (review_prenotice_pdf)."""

from django.urls import include, path

from ..delegation.views import urlpatterns as delegation_urlpatterns
from ..documents import notice_urls, review_notice
from ..documents.common import notice_pdf_view
from .documents import prenotice_document
from .flow import ReviewFlow

urlpatterns = [
    path(
        "dibao/reviews/",
        include(
            [
                *ReviewFlow.urls(),
                *notice_urls(ReviewFlow, review_notice),
                path(
                    "<int:pk>/prenotice.pdf",
                    notice_pdf_view(ReviewFlow, prenotice_document),
                    name="review_prenotice_pdf",
                ),
            ]
        ),
    ),
    # 委托确认抽查 (assistance/delegation): the district's check of the streets' 低保 confirmations.
    *delegation_urlpatterns,
]
