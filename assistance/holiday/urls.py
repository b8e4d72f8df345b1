"""Included by assistance/urls.py under "holiday/" (names are assistance:holiday_*)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.holiday_payment, name="holiday_payment"),
]
