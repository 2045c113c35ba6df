"""Django app config of the reference LMS."""

from __future__ import annotations

from django.apps import AppConfig


class ReferenceLmsConfig(AppConfig):
    name = "conformance.reference.lms"
    label = "reference_lms"
    default_auto_field = "django.db.models.AutoField"
