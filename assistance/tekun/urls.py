"""特困人员认定 URLs, included by assistance/urls.py under "tekun/" (names live in the "assistance" namespace):
the kit's list, create, detail, transition, 公示, attachment and 调查核实 pages of `TekunFlow`, and its decision
notice (tekun_decision_pdf) with its 送达 (tekun_delivery)."""

from ..documents import notice_urls, tekun_notice
from .flow import TekunFlow

urlpatterns = [*TekunFlow.urls(), *notice_urls(TekunFlow, tekun_notice)]
