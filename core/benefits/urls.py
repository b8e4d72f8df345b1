from django.urls import path

from . import views

app_name = "benefits"
urlpatterns = [
    path("runs/", views.run_list, name="run_list"),
    path("runs/calculate/", views.run_create, name="run_create"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/recalculate/", views.run_recalculate, name="run_recalculate"),
    path("runs/<int:pk>/lock/", views.run_lock, name="run_lock"),
    path("lines/<int:pk>/", views.line_detail, name="line_detail"),
    path("lines/<int:pk>/explanation/", views.line_explanation, name="line_explanation"),
    path("standards/", views.standard_list, name="standard_list"),
    path("standards/new/", views.standard_change, name="standard_change"),
]
