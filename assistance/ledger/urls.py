"""Included by assistance/urls.py under "ledger/" (names are assistance:ledger*)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.ledger, name="ledger"),
]
