"""oauth_dispatch's scopes backend: an application may request the default scopes plus those its
ApplicationAccess row grants, and nothing else known or unknown."""

from __future__ import annotations

from typing import Any

from oauth2_provider.scopes import SettingsScopes

from conformance.reference.lms.models import ApplicationAccess


class ApplicationModelScopes(SettingsScopes):
    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> set[str]:
        granted = ApplicationAccess.scopes_for(application) if application is not None else []
        return set(granted + list(self.get_default_scopes())).intersection(self.get_all_scopes())

    def has_user_id_in_application_scopes(self, application: Any) -> bool:
        return "user_id" in ApplicationAccess.scopes_for(application)
