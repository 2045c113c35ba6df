"""Loads the conformance plugin, so that `pytest conformance/checks --oauth-profile P` works too."""

pytest_plugins = ["conformance.plugin"]
