"""残疾人两项补贴 URLs, included by assistance/urls.py under "disability/" (names live in the "assistance"
namespace): the kit's list, create, detail, transition, 公示, attachment and 残联审核 pages of
`DisabilityFlow`, and the flow's own monthly comparison with its 停发."""

from .flow import DisabilityFlow

urlpatterns = DisabilityFlow.urls()
