from django.urls import path

from . import views

app_name = "workflow"
urlpatterns = [
    path("todo/", views.todo, name="todo"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/transition/", views.case_transition, name="case_transition"),
    path("cases/<int:pk>/notices/open/", views.notice_open, name="notice_open"),
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/<int:pk>/object/", views.notice_object, name="notice_object"),
    path("notices/<int:pk>/close/", views.notice_close, name="notice_close"),
]
