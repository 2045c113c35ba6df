"""``/api/v1/catalogs/``: an empty, paginated catalog list behind the service's own JWT settings."""

from __future__ import annotations

from typing import Any

from rest_framework import generics, serializers


class CatalogSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CatalogListView(generics.ListAPIView):
    serializer_class = CatalogSerializer

    def get_queryset(self) -> Any:
        return []
