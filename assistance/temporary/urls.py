"""临时救助 URLs, included by assistance/urls.py under "temporary/" (names live in the "assistance" namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.temp_list, name="temp_list"),
    path("new/", views.temp_create, name="temp_create"),
    path("<int:pk>/", views.temp_detail, name="temp_detail"),
    path("<int:pk>/proposal/", views.temp_proposal, name="temp_proposal"),
    path("<int:pk>/advance/", views.temp_advance, name="temp_advance"),
    path("<int:pk>/transition/", views.temp_transition, name="temp_transition"),
]
