from django.urls import path

from . import views
from .lists import RosterList, VacantDirectorList, VacantSupervisorList

app_name = "staff"

urlpatterns = [
    RosterList.list_path(""),
    VacantDirectorList.list_path("vacancies/directors/"),
    VacantSupervisorList.list_path("vacancies/supervisors/"),
    path("new/", views.member_create, name="member_create"),
    path("<int:pk>/", views.member_detail, name="member_detail"),
    path("<int:pk>/edit/", views.member_edit, name="member_edit"),
    path("positions/<int:pk>/end/", views.position_end, name="position_end"),
    path("positions/<int:pk>/change/", views.position_change, name="position_change"),
]
