from django.urls import path

from jiuzhu.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.calculator, name="home"),
    path("calculator/", views.calculator, name="calculator"),
    path("api/evaluate", views.api_evaluate, name="api-evaluate"),
]
