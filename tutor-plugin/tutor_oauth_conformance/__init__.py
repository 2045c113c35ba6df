"""Tutor plugin `oauth-conformance`: the Open edX OAuth conformance suite as a Tutor test suite."""

__version__ = "0.1.0"
