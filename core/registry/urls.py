from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("search/", views.search, name="search"),
    path("households/", views.household_list, name="household_list"),
    path("households/new/", views.household_create, name="household_create"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("households/<int:pk>/edit/", views.household_edit, name="household_edit"),
    path("households/<int:pk>/members/add/", views.member_add, name="member_add"),
    path("households/<int:pk>/incomes/add/", views.income_add, name="income_add"),
    path("households/<int:pk>/assets/add/", views.asset_add, name="asset_add"),
    path("households/<int:pk>/assets/<int:asset_pk>/end/", views.asset_end, name="asset_end"),
    path("persons/<int:pk>/", views.person_detail, name="person_detail"),
    path("persons/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("persons/<int:pk>/death/", views.person_death, name="person_death"),
    path("persons/<int:pk>/marital/", views.person_marital, name="person_marital"),
    path("persons/<int:pk>/move/", views.person_move, name="person_move"),
    path("<str:target>/<int:pk>/attachments/upload/", views.attachment_upload, name="attachment_upload"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("attachments/<int:pk>/remove/", views.attachment_remove, name="attachment_remove"),
    path("reveal/<str:kind>/<int:pk>/", views.reveal, name="reveal"),
    path("<str:target>/<int:pk>/facts/add/", views.fact_add, name="fact_add"),
    path("<str:target>/<int:pk>/facts/end/", views.fact_end, name="fact_end"),
    path("persons/<int:pk>/assessments/add/", views.assessment_add, name="assessment_add"),
]
