"""临时救助 URLs, included by assistance/urls.py under "temporary/" (names live in the "assistance" namespace):
the kit's list, create, detail, transition, attachment, 拟救助方案 (temp_proposal) and 先行救助 (temp_advance)
pages of `TempFlow`, and its decision notice (temp_decision_pdf) with its 送达 (temp_delivery)."""

from ..documents import notice_urls, temp_notice
from .flow import TempFlow

urlpatterns = [*TempFlow.urls(), *notice_urls(TempFlow, temp_notice)]
