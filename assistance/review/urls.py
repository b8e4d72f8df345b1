"""URLs of 低保 dynamic management, included in the `assistance` namespace by assistance/urls.py."""

from django.urls import path

from . import views

urlpatterns = [
    path("dibao/reviews/", views.review_list, name="review_list"),
    path("dibao/reviews/<int:pk>/", views.review_detail, name="review_detail"),
    path("dibao/reviews/<int:pk>/income/", views.review_income_add, name="review_income_add"),
    path("dibao/reviews/<int:pk>/decide/", views.review_decide, name="review_decide"),
    path("dibao/reviews/<int:pk>/transition/", views.review_transition, name="review_transition"),
]
