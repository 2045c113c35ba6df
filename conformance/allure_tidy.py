"""Allure result messages as people read them: without the exception's internal class name.

allure-pytest writes `call.excinfo.exconly()` as a result's message, so every failure started with
`conformance._lib.verify.ConformanceFailure: `. This allure hook (run before the file writer)
strips a suite class name from the front of each message; the requirement, expected and actual that
follow are the message.
"""

from __future__ import annotations

import re
from typing import Any

import allure_commons

__all__ = ["MessageTidier", "register", "tidy", "unregister"]

# `conformance.<module path>.<Class>: `, possibly after allure's "XFAIL reason\n\n".
_SUITE_CLASS = re.compile(r"(?m)^conformance(?:\.\w+)+\.[A-Z]\w*: ")


def tidy(message: str) -> str:
    return _SUITE_CLASS.sub("", message)


class MessageTidier:
    @allure_commons.hookimpl(tryfirst=True)
    def report_result(self, result: Any) -> None:
        details = getattr(result, "statusDetails", None)
        if details is not None and isinstance(getattr(details, "message", None), str):
            details.message = tidy(details.message)


_TIDIER = MessageTidier()


def register() -> None:
    if not allure_commons.plugin_manager.is_registered(_TIDIER):
        allure_commons.plugin_manager.register(_TIDIER)


def unregister() -> None:
    if allure_commons.plugin_manager.is_registered(_TIDIER):
        allure_commons.plugin_manager.unregister(_TIDIER)
