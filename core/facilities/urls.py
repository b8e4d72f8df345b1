from django.urls import path

from . import views
from .lists import FacilityList, OverdueHazardList, UninspectedList

app_name = "facilities"

urlpatterns = [
    FacilityList.list_path(""),
    path("new/", views.facility_create, name="facility_create"),
    path("<int:pk>/", views.facility_detail, name="facility_detail"),
    path("<int:pk>/edit/", views.facility_edit, name="facility_edit"),
    path("<int:pk>/inspections/new/", views.inspection_create, name="inspection_create"),
    path("inspections/<int:pk>/notice.pdf", views.rectification_notice_pdf, name="rectification_notice_pdf"),
    path("hazards/<int:pk>/rectify/", views.hazard_rectify, name="hazard_rectify"),
    path("hazards/<int:pk>/reinspect/", views.hazard_reinspect, name="hazard_reinspect"),
    path("hazards/<int:pk>/photos/", views.hazard_photo_upload, name="hazard_photo_upload"),
    OverdueHazardList.list_path("hazards/overdue/"),
    UninspectedList.list_path("uninspected/"),
]
