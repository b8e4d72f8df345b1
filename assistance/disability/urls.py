"""Included by assistance/urls.py under "disability/" (names are assistance:disability_*)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.disability_list, name="disability_list"),
    path("new/", views.disability_create, name="disability_create"),
    path("<int:pk>/", views.disability_detail, name="disability_detail"),
    path("<int:pk>/action/", views.disability_action, name="disability_action"),
    path("comparison/", views.disability_comparison, name="disability_comparison"),
    path("comparison/<int:pk>/stop/", views.disability_stop, name="disability_stop"),
]
