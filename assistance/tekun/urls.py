"""特困人员认定 URLs, included by assistance/urls.py under "tekun/" (names live in the "assistance" namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.tekun_list, name="tekun_list"),
    path("new/", views.tekun_create, name="tekun_create"),
    path("<int:pk>/", views.tekun_detail, name="tekun_detail"),
    path("<int:pk>/investigation/", views.tekun_investigation, name="tekun_investigation"),
    path("<int:pk>/notice/", views.tekun_notice, name="tekun_notice"),
    path("<int:pk>/transition/", views.tekun_transition, name="tekun_transition"),
]
