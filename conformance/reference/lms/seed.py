"""The LMS's seed data: a staff service user owning a confidential client-credentials application,
the public password-grant application Open edX logs in with, and a test learner."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from oauth2_provider.models import Application

from conformance.reference import accounts
from conformance.reference.defects import Defect
from conformance.reference.lms.models import UserProfile
from conformance.reference.runtime import RuntimeConfig

LOGIN_SERVICE_USERNAME = "login_service_user"


@transaction.atomic
def seed(config: RuntimeConfig) -> None:
    user_model = get_user_model()

    service = user_model(
        username=config.service_username, email=f"{config.service_username}@example.com", is_staff=True
    )
    # Service users never log in with a password; owning an application keeps Bearer auth happy.
    service.set_unusable_password()
    service.save()
    UserProfile.objects.create(user=service, name="Conformance Service Worker")

    login_service = user_model(username=LOGIN_SERVICE_USERNAME, email=f"{LOGIN_SERVICE_USERNAME}@example.com")
    login_service.set_unusable_password()
    login_service.save()

    learner = user_model(
        username=config.test_username,
        email=f"{config.test_username}@example.com",
        first_name="Ada",
        last_name="Learner",
    )
    learner.set_password(config.test_password)
    learner.save()
    UserProfile.objects.create(user=learner, name="Ada Learner")

    _service_application(
        "conformance backend service",
        config.client_id,
        config.client_secret,
        service,
        Application.GRANT_CLIENT_CREDENTIALS,
    )
    Application.objects.create(
        name="Login Service for JWT Cookies",
        client_id=config.public_client_id,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_PASSWORD,
        user=login_service,
        redirect_uris="",
    )
    # The service's SSO client, as Tutor's init creates cms-sso (jobs/init/lms.sh): confidential,
    # authorization-code, skip_authorization, owned by the service's user.
    sso_owner = user_model(username="discovery_worker", email="discovery_worker@example.com")
    sso_owner.set_unusable_password()
    sso_owner.save()
    redirect_uri = config.sso_redirect_uri
    if Defect.SSO_REDIRECT_URI_OTHER_SCHEME in config.faults:
        # Registered at init time with the other scheme (ENABLE_HTTPS flipped since).
        scheme, rest = redirect_uri.split("://", 1)
        redirect_uri = f"{'http' if scheme == 'https' else 'https'}://{rest}"
    _service_application(
        "discovery-sso",
        config.sso_client_id,
        config.sso_client_secret,
        sso_owner,
        Application.GRANT_AUTHORIZATION_CODE,
        redirect_uri,
    )
    if config.accounts:
        accounts.seed(config.accounts, config.public_client_id)


def _service_application(
    name: str, client_id: str, client_secret: str, owner: Any, grant: str, redirect_uris: str = ""
) -> None:
    """A confidential application of one of the instance's own services, which skips the consent
    screen as Tutor's init creates them."""
    Application.objects.create(
        name=name,
        client_id=client_id,
        client_secret=client_secret,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=grant,
        user=owner,
        redirect_uris=redirect_uris,
        skip_authorization=True,
    )
