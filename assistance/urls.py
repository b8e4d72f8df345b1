from django.urls import include, path

from . import documents, views
from .review import urls as review_urls

app_name = "assistance"
urlpatterns = [
    path("dibao/", views.dibao_list, name="dibao_list"),
    path("dibao/entitlements/", views.dibao_entitlements, name="dibao_entitlements"),
    path("dibao/new/", views.dibao_create, name="dibao_create"),
    path("dibao/<int:pk>/", views.dibao_detail, name="dibao_detail"),
    path("dibao/<int:pk>/investigation/", views.investigation_add, name="investigation_add"),
    path("dibao/<int:pk>/notice/", views.dibao_notice, name="dibao_notice"),
    path("dibao/<int:pk>/attachments/upload/", views.dibao_attachment_upload, name="dibao_attachment_upload"),
    path("dibao/<int:pk>/form.pdf", documents.dibao_form_pdf, name="dibao_form_pdf"),
    path("dibao/<int:pk>/decision.pdf", documents.dibao_decision_pdf, name="dibao_decision_pdf"),
    *review_urls.urlpatterns,
    path("tekun/", include("assistance.tekun.urls")),
    path("disability/", include("assistance.disability.urls")),
    path("holiday/", include("assistance.holiday.urls")),
    path("temporary/", include("assistance.temporary.urls")),
    path("ledger/", include("assistance.ledger.urls")),
]
