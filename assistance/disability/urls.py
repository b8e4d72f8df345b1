"""残疾人两项补贴 URLs, included by assistance/urls.py under "disability/" (names live in the "assistance"
namespace): the kit's list, create, detail, transition, 公示, attachment and 残联审核 pages of
`DisabilityFlow`, the flow's own monthly comparison with its 停发, and its decision notice
(disability_decision_pdf) with its 送达 (disability_delivery)."""

from ..documents import disability_notice, notice_urls
from .flow import DisabilityFlow

urlpatterns = [*DisabilityFlow.urls(), *notice_urls(DisabilityFlow, disability_notice)]
