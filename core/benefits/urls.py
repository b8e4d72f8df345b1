app_name = "benefits"
urlpatterns = []
