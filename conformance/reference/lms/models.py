"""The few LMS models OAuth needs: the user profile (for the JWT ``name`` claim) and the
per-application scope grants of oauth_dispatch's ApplicationAccess."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from oauth2_provider.settings import oauth2_settings


class UserProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    name = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return self.name


class ApplicationAccess(models.Model):
    """Extra scopes (and filters) an application may request beyond the defaults."""

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="access"
    )
    # Comma-separated, as the platform's ListCharField stores them.
    scopes = models.CharField(max_length=825, blank=True)
    filters = models.CharField(max_length=825, blank=True)

    def __str__(self) -> str:
        return f"{self.application_id}:{self.scopes}:{self.filters}"

    @staticmethod
    def _split(value: str) -> list[str]:
        return [item for item in value.split(",") if item]

    @classmethod
    def scopes_for(cls, application: object) -> list[str]:
        access = cls.objects.filter(application=application).first()
        return cls._split(access.scopes) if access else []

    @classmethod
    def filters_for(cls, application: object) -> list[str]:
        access = cls.objects.filter(application=application).first()
        return cls._split(access.filters) if access else []


class RestrictedApplication(models.Model):
    """oauth_dispatch's RestrictedApplication: the listed applications get only already-expired
    opaque tokens, and JWTs marked ``is_restricted`` (which APIs refuse outside their scopes)."""

    application = models.ForeignKey(oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE)

    def __str__(self) -> str:
        return f"<RestrictedApplication {self.application_id}>"

    @classmethod
    def is_restricted(cls, application: object) -> bool:
        return bool(application is not None and cls.objects.filter(application=application).exists())
