"""openedx-oauth-conformance: OAuth 2.0 / JWT conformance checks for Open edX instances."""

from __future__ import annotations

__version__ = "0.1.0"
