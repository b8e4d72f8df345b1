from django.urls import include, path

from .flow import DibaoFlow
from .review import urls as review_urls

app_name = "assistance"
urlpatterns = [
    path("dibao/", include(DibaoFlow.urls())),
    *review_urls.urlpatterns,
    path("tekun/", include("assistance.tekun.urls")),
    path("disability/", include("assistance.disability.urls")),
    path("holiday/", include("assistance.holiday.urls")),
    path("temporary/", include("assistance.temporary.urls")),
    path("ledger/", include("assistance.ledger.urls")),
]
