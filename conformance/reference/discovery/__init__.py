"""The reference discovery service: one JWT-protected list endpoint, as course-discovery serves it."""

from __future__ import annotations
