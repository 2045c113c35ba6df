"""The run-time configuration one ``serve`` hands to its two service processes, as a 0600 JSON file.

Secrets travel in this file (never in argv or the environment, which other local users can read);
the settings modules of both services are pure functions of it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

CONFIG_ENV = "CONFORMANCE_REFERENCE_CONFIG"
AUDIENCE = "openedx"


@dataclass(frozen=True)
class RuntimeConfig:
    state_dir: str
    lms_port: int
    discovery_port: int
    jwt_secret: str
    lms_secret_key: str
    discovery_secret_key: str
    client_id: str
    client_secret: str
    service_username: str
    public_client_id: str
    test_username: str
    test_password: str
    private_key_path: str
    public_jwks: str
    faults: tuple[str, ...] = ()
    latency_ms: int = 0
    rate_limit: str = "120/m"
    # login_user's per-username limit (LOGISTRATION_PER_EMAIL_RATELIMIT_RATE; the LMS's default).
    login_rate_limit: str = "30/5m"
    record_tokens: str | None = None
    # The JWK set the other services trust, when a key fault makes it differ from the LMS's own
    # JWT_PUBLIC_SIGNING_JWK_SET (None: the same set).
    services_jwks: str | None = None
    # JWT_PRIVATE_SIGNING_JWK, as a 0600 JSON file (the LMS signs RS512 with it through PyJWT).
    private_jwk_path: str | None = None
    # 0 (no rotation) to 4: see conformance.reference.keys.key_material.
    rotation_phase: int = 0
    # `serve --tls`: the public ports are the TLS front's (the services listen on loopback ports of
    # their own behind it), and plain http is served on http_port.
    tls: bool = False
    http_port: int = 0

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    # The SSO application the discovery-like service signs users in with (authorization code).
    sso_client_id: str = "discovery-sso"
    sso_client_secret: str = ""
    # The accounts and applications a conformant LMS refuses (conformance.reference.accounts).
    accounts: dict[str, str] | None = None

    @property
    def lms_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.lms_port}"

    @property
    def discovery_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.discovery_port}"

    @property
    def sso_redirect_uri(self) -> str:
        """The redirect URI social-auth's edx-oauth2 backend uses on the service."""
        return f"{self.discovery_url}/complete/edx-oauth2/"

    @property
    def issuer(self) -> str:
        return f"{self.lms_url}/oauth2"

    @property
    def audience(self) -> str:
        return AUDIENCE

    @property
    def discovery_jwks(self) -> str:
        """The public JWK set the discovery service trusts."""
        return self.services_jwks or self.public_jwks

    def write(self, path: Path) -> None:
        write_private(path, json.dumps(dataclasses.asdict(self), indent=2) + "\n")

    @classmethod
    def read(cls, path: Path | str) -> RuntimeConfig:
        data = json.loads(Path(path).read_text())
        data["faults"] = tuple(data.get("faults") or ())
        return cls(**data)


@functools.cache
def current() -> RuntimeConfig:
    """This service process's configuration (named by the environment before Django starts)."""
    return RuntimeConfig.read(os.environ[CONFIG_ENV])


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only, created with those permissions (no window at 0644)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # the file may have existed with wider permissions
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
