"""The reference LMS: oauth_dispatch's token, revocation and JWT behaviour, and the user API probes."""

from __future__ import annotations
