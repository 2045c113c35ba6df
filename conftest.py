"""The repository's root conftest: the plugin for the project's own tests (and `pytest conformance/checks`).

Installed (bin/setup-env installs the checkout), the package's pytest11 entry point
`openedx_oauth_conformance` loads `conformance.plugin` already; registering the module again under
another name is an error in pytest, so this only registers it when the entry point did not (plugin
autoload off) and the plugin was not turned off with `-p no:openedx_oauth_conformance`.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]  # tests/test_pytest_plugin.py


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    import conformance.plugin

    blocked = any(pluginmanager.is_blocked(n) for n in ("openedx_oauth_conformance", "conformance.plugin"))
    if not blocked and not pluginmanager.is_registered(conformance.plugin):
        pluginmanager.register(conformance.plugin, "conformance.plugin")
