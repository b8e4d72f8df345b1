"""低保动态复核 URLs, included in the `assistance` namespace by assistance/urls.py: the kit's list, detail,
transition, attachment and step pages of `ReviewFlow` under "dibao/reviews/" (review_list, review_detail,
review_income_add, review_decide, review_transition …), and the notice of the confirmed outcome
(review_decision_pdf: 增发/减发/停发/渐退/维持) with its 送达 (review_delivery)."""

from django.urls import include, path

from ..documents import notice_urls, review_notice
from .flow import ReviewFlow

urlpatterns = [path("dibao/reviews/", include([*ReviewFlow.urls(), *notice_urls(ReviewFlow, review_notice)]))]
