from django.urls import include, path

from core.workflow.delivery import delivery_view

from . import checks
from .documents import dibao_decision_notice
from .flow import DibaoFlow
from .low_income import lists as low_income_lists
from .review import urls as review_urls

app_name = "assistance"
urlpatterns = [
    path("dibao/", include(DibaoFlow.urls())),
    path(
        "dibao/<int:pk>/delivery/",
        delivery_view(DibaoFlow, dibao_decision_notice),
        name="dibao_delivery",
    ),
    *review_urls.urlpatterns,
    path("tekun/", include("assistance.tekun.urls")),
    path("disability/", include("assistance.disability.urls")),
    path("holiday/", include("assistance.holiday.urls")),
    path("temporary/", include("assistance.temporary.urls")),
    path("ledger/", include("assistance.ledger.urls")),
    *checks.urlpatterns,
    *low_income_lists.urlpatterns,
]
