"""The fault matrix's cheap part: which checks a fault's declared effects touch, and whether its
entry names them, learned from the stub LMS in seconds instead of a reference instance per fault.

How: every check case of the unit table runs once against the stock stub (its table base and
profile) through a transport that records each exchange with the LMS. A fault's request and
response effects (``conformance/reference/faults/effects.py``) are applied to the recorded
exchanges with the same functions the reference's ``FaultEffectsMiddleware`` uses: a check is
*touched* when an effect changes a request it sent or an answer it got. The touched checks run again
with the effects applied live on the stub's transport; those that fail are the fault's *predicted*
failures. A check that is not touched sees the same answers as on the stock stub, so it passes.

What it asserts, per fault with request or response effects:
- every predicted failure is in the fault's ``catches`` or ``collateral`` (an entry whose collateral
  misses a check its effect makes fail is a failure here, before any instance starts);
- the effects touch at least one of the fault's ``catches`` (the effect reaches what it breaks).

What it cannot predict, left to ``tests/test_fault_matrix.py``: claim effects (the stub signs its
own JWTs) and setting effects (the stub has no Django settings), code switches (no effects at all);
a check that the reference fails but the stub passes because the stub answers differently there;
and collateral that is declared but does not fail on the stub (``collateral`` says "may fail").
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from faker import Faker

from conformance._lib.http import Http
from conformance._lib.jwts import load_jwks
from conformance._lib.signin import SignIn
from conformance._lib.tokens import TokenFlows
from conformance.reference.faults import FAULTS, Fault
from conformance.reference.faults import effects as fx
from tests.stub_lms import LMS_HOST, StubLms
from tests.units.harness import CHECK_MODULES, FUNCTIONS, cases_of, merge, stub_profile
from tests.units.test_catalogue import TABLE

# The effects this test can apply to the stub's exchanges.
EXCHANGE_EFFECTS = (
    fx.RequestHeaderDropped,
    fx.Answered,
    fx.ResponseHeaderDropped,
    fx.ResponseHeaderSet,
    fx.StatusRewritten,
    fx.ErrorRewritten,
    fx.MemberChanged,
)
PREDICTED = [f for f in FAULTS if any(isinstance(e, EXCHANGE_EFFECTS) for e in f.effects)]


def _applied(handler: Callable[[httpx.Request], httpx.Response], effects: tuple[fx.Effect, ...]) -> Any:
    """The stub's handler behind the effects, as the reference's FaultEffectsMiddleware applies them."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host != LMS_HOST or not effects:
            return handler(request)
        path = request.url.path
        answered = fx.answer(effects, request.method, path)
        if answered is not None:
            return httpx.Response(
                answered.status, headers={"Content-Type": answered.content_type}, text=answered.body
            )
        for header in fx.dropped_request_headers(effects, path):
            if header in request.headers:
                del request.headers[header]
        response = handler(request)
        content = response.read()
        headers = httpx.Headers(response.headers)
        status, new_content = fx.rewrite_response(effects, path, response.status_code, headers, content)
        if new_content is not None:
            content = new_content
            headers["Content-Length"] = str(len(content))
        return httpx.Response(status, headers=headers, content=content, request=request)

    return handle


@dataclass
class Run:
    """One check case's run: its outcome and what it exchanged with the LMS."""

    outcome: str  # passed | failed | skipped
    message: str = ""
    exchanges: list[tuple[httpx.Request, httpx.Response]] = field(default_factory=list)


def _run(check_id: str, case: str | None, effects: tuple[fx.Effect, ...] = ()) -> Run:
    unit_ = TABLE[check_id]
    stub = StubLms(unit_.base)
    profile = stub_profile(stub, merge(dict(unit_.profile), {}))
    record = Run("passed")
    inner = _applied(stub.handle, effects)

    def recording(request: httpx.Request) -> httpx.Response:
        # The request as the check sent it, before an effect drops a header of it.
        sent = httpx.Request(request.method, request.url, headers=request.headers, content=request.content)
        response = inner(request)
        response.read()
        if request.url.host == LMS_HOST:
            record.exchanges.append((sent, response))
        return response

    options = profile.data["options"]
    http = Http(
        profile.base_url,
        transport=httpx.MockTransport(recording),
        max_requests=int(options["max_requests"]),
        max_token_requests=int(options["max_token_requests"]),
        token_path=profile.data["token_path"],
    )
    fake = Faker()
    fake.seed_instance(f"{check_id}[{case}]")
    fixtures: dict[str, Any] = {
        "tokens": TokenFlows(http, profile),
        "http": http,
        "profile": profile,
        "jwks": load_jwks(profile),
        "fake": fake,
        "sso_client": "studio",
    }
    fixtures["signin"] = SignIn(http, profile, fixtures["tokens"])
    argname, cases = cases_of(check_id)
    if argname is not None:
        fixtures[argname] = dict(cases)[case]
    fn = FUNCTIONS[check_id]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CHECK_MODULES["test_transport"], "_handshake", stub.handshake)
        patch.setattr(CHECK_MODULES["test_jwt_attacks"], "time", stub.clock)
        try:
            fn(**{name: fixtures[name] for name in inspect.signature(fn).parameters})
        except pytest.skip.Exception as skipped:
            record.outcome, record.message = "skipped", str(skipped)
        except Exception as exc:  # a check fails by raising; which exception does not matter here
            record.outcome, record.message = "failed", f"{type(exc).__name__}: {exc}"[:300]
        finally:
            http.close()
    return record


def _touches(effects: tuple[fx.Effect, ...], request: httpx.Request, response: httpx.Response) -> bool:
    """Whether the effects change this exchange: the request the LMS gets, or the answer."""
    path = request.url.path
    if fx.answer(effects, request.method, path) is not None:
        return True
    if any(header in request.headers for header in fx.dropped_request_headers(effects, path)):
        return True
    headers = httpx.Headers(response.headers)
    status, content = fx.rewrite_response(effects, path, response.status_code, headers, response.content)
    return status != response.status_code or content is not None or headers != response.headers


@pytest.fixture(scope="module")
def stock() -> dict[tuple[str, str | None], Run]:
    """Every check case of the unit table, once, on the stock stub (the time it took is printed)."""
    started = time.monotonic()
    runs = {
        (check_id, case): _run(check_id, case)
        for check_id in sorted(TABLE)
        for case, _ in cases_of(check_id)[1]
    }
    print(f"\nstock stub: {len(runs)} check cases recorded in {time.monotonic() - started:.1f} s")
    return runs


@dataclass(frozen=True)
class Prediction:
    touched: frozenset[str]
    failed: dict[str, str]


def predict(fault: Fault, stock: dict[tuple[str, str | None], Run]) -> Prediction:
    """The checks the fault's exchange effects touch, and those of them that fail on the stub."""
    effects = tuple(e for e in fault.effects if isinstance(e, EXCHANGE_EFFECTS))
    touched_cases = [
        key
        for key, run in stock.items()
        if run.outcome != "skipped" and any(_touches(effects, *exchange) for exchange in run.exchanges)
    ]
    failed: dict[str, str] = {}
    for check_id, case in touched_cases:
        run = _run(check_id, case, effects)
        if run.outcome == "failed":
            failed.setdefault(check_id, run.message)
    return Prediction(frozenset(check_id for check_id, _ in touched_cases), failed)


@pytest.fixture(scope="module")
def predictions(stock: dict[tuple[str, str | None], Run]) -> Iterator[dict[str, Prediction]]:
    yield {fault.name: predict(fault, stock) for fault in PREDICTED}


def test_stock_stub_passes_every_case_it_runs(stock: dict[tuple[str, str | None], Run]) -> None:
    # The baseline the predictions stand on: nothing fails on the stock stub.
    failed = {f"{c}[{k}]": run.message for (c, k), run in stock.items() if run.outcome == "failed"}
    assert not failed, failed


@pytest.mark.parametrize("fault", PREDICTED, ids=lambda f: f.name)
def test_predicted_failures_are_declared(fault: Fault, predictions: dict[str, Prediction]) -> None:
    prediction = predictions[fault.name]
    declared = set(fault.catches) | set(fault.collateral)
    undeclared = {check: why for check, why in prediction.failed.items() if check not in declared}
    assert not undeclared, (
        f"{fault.name}: its effects make these checks fail on the stub, and its entry names them "
        f"neither in catches nor in collateral (add them, with the reason): {undeclared}"
    )


@pytest.mark.parametrize("fault", PREDICTED, ids=lambda f: f.name)
def test_effects_reach_a_catch(fault: Fault, predictions: dict[str, Prediction]) -> None:
    prediction = predictions[fault.name]
    assert set(fault.catches) & prediction.touched, (
        f"{fault.name}: its effects touch none of its catches on the stub; touched: "
        f"{sorted(prediction.touched)}"
    )


def test_claim_effects_change_the_payload_as_declared() -> None:
    payload = {"iat": 100, "exp": 3700, "version": "1.2.0", "filters": [], "sub": "x"}
    fx.apply_claims(
        (fx.ClaimsRemoved(("version", "filters")), fx.ClaimsShifted(("iat", "exp"), 300)), payload
    )
    assert payload == {"iat": 400, "exp": 4000, "sub": "x"}


def test_setting_effects_name_settings_the_lms_defines() -> None:
    # A misspelt setting would be set beside the real one and change nothing; a key effect edits a
    # copy of the dict setting, so the stock value stays as it is for every other instance.
    import ast
    from pathlib import Path

    settings = Path(fx.__file__).parents[1] / "lms_settings.py"
    defined = {
        target.id
        for node in ast.parse(settings.read_text(encoding="utf-8")).body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }
    effects = [e for f in FAULTS for e in f.effects if isinstance(e, fx.Setting)]
    assert effects
    assert {e.name for e in effects} <= defined, {e.name for e in effects} - defined
    namespace: dict[str, Any] = {"OAUTH2_PROVIDER": {"ROTATE_REFRESH_TOKEN": True}, "RATELIMIT_ENABLE": True}
    stock = dict(namespace["OAUTH2_PROVIDER"])
    fx.apply_settings(
        (
            fx.Setting("OAUTH2_PROVIDER", False, key="ROTATE_REFRESH_TOKEN"),
            fx.Setting("RATELIMIT_ENABLE", False),
        ),
        namespace,
    )
    assert namespace == {"OAUTH2_PROVIDER": {"ROTATE_REFRESH_TOKEN": False}, "RATELIMIT_ENABLE": False}
    assert stock == {"ROTATE_REFRESH_TOKEN": True}


def test_every_fault_is_data_or_names_its_switch() -> None:
    # A fault without effects is a code switch: its name is asked for somewhere in the reference.
    from pathlib import Path

    reference = Path(fx.__file__).parents[1]
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for path in reference.rglob("*.py")
        if path.parent.name != "faults" and "migrations" not in path.parts
    )
    code = [f.name for f in FAULTS if not f.effects]
    unswitched = [name for name in code if f'"{name}"' not in sources]
    assert not unswitched, unswitched
