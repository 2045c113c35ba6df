"""URL routes of the reference discovery service."""

from __future__ import annotations

from django.urls import path

from conformance.reference.discovery.views import CatalogListView

urlpatterns = [path("api/v1/catalogs/", CatalogListView.as_view(), name="catalogs")]
