"""特困人员认定 URLs, included by assistance/urls.py under "tekun/" (names live in the "assistance" namespace):
the kit's list, create, detail, transition, 公示, attachment and 调查核实 pages of `TekunFlow`."""

from .flow import TekunFlow

urlpatterns = TekunFlow.urls()
