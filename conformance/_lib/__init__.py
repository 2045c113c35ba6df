"""Shared plumbing for the checks: HTTP, tokens, JWTs, verifiers, profiles, redaction."""
