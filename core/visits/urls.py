from django.urls import path

from . import views
from .lists import DueThisMonthList, EnrollmentList, FollowUpList, OverdueList, VisitList

app_name = "visits"

urlpatterns = [
    DueThisMonthList.list_path("due/"),
    OverdueList.list_path("overdue/"),
    FollowUpList.list_path("follow-ups/"),
    VisitList.list_path("records/"),
    EnrollmentList.list_path("enrollments/"),
    path("persons/<int:pk>/visit/", views.visit_create, name="visit_create"),
    path("persons/<int:pk>/enroll/", views.enroll, name="enroll"),
    path("records/<int:pk>/", views.visit_detail, name="visit_detail"),
    path("records/<int:pk>/follow-up/", views.followup_done, name="followup_done"),
    path("enrollments/<int:pk>/leave/", views.leave, name="leave"),
    path("suggestions/", views.suggestion_list, name="suggestions"),
    path("coverage/", views.coverage_view, name="coverage"),
]
