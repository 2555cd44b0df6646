"""DCI social-registry endpoints, below /api/v1/dci/ (paths as in social_api_v1.0.0.yaml and
registry_core_api_v1.0.0.yaml)."""

from django.urls import path

from jiuzhu.api.dci import views

app_name = "dci"

urlpatterns = [
    path("registry/sync/search", views.sync_search, name="sync_search"),
    path("registry/search", views.search_async, name="search"),
    path("registry/subscribe", views.subscribe, name="subscribe"),
    path("registry/unsubscribe", views.unsubscribe, name="unsubscribe"),
    path("registry/txn/status", views.txn_status, name="txn_status"),
    path("registry/sync/txn/status", views.sync_txn_status, name="sync_txn_status"),
    path(".well-known/jwks.json", views.jwks, name="jwks"),
]
