"""Casework pages: the application side, the list side and dynamic management each keep their own patterns."""

from jiuzhu.casework.views import application_urls, dynamic, list_urls

app_name = "casework"
urlpatterns = [*application_urls.urlpatterns, *list_urls.urlpatterns, *dynamic.urlpatterns]
