"""Rate limiting is waited out: a run that meets the token endpoint's limit says so once, waits for
the window and goes on to the same verdicts (exit 0); only a limit that persists past the profile's
bound (options.rate_limit_wait_s) makes the token checks it stops inconclusive, with one message,
nothing reported as a conformance failure because of it, and the run not green (4)."""

from __future__ import annotations

import httpx
import pytest

from conformance._lib.http import POLL_S, Http, RateLimited
from tests.conftest import run_cli


def with_options(ref, tmp_path, options: str):
    path = tmp_path / "profile.toml"
    path.write_text(
        ref.profile_path.read_text().replace('jwks = "jwks.json"', f'jwks = "{ref.state_dir / "jwks.json"}"')
        + f"[options]\n{options}\n"
    )
    return path


def test_a_run_that_meets_the_rate_limit_waits_and_passes(tmp_path):
    from conformance.reference.launcher import running_reference

    # 40 token requests a minute: a full run needs more, so it meets the limit at least once.
    with running_reference(state_dir=tmp_path / "state", rate_limit="40/m") as ref:
        result = run_cli(
            ["run", "--profile", str(ref.profile_path), "--no-html"],
            env=ref.env,
            report_dir=tmp_path / "report",
            timeout=600,
        )
    assert result.code == 0, result.console[-3000:]
    summary = result.summary()
    assert summary["counts"]["failed"] == 0 and summary["skips"]["inconclusive"] == 0
    assert summary["token_requests"] > 40  # it did go past the limit
    assert result.out.count("note: the token endpoint is rate limiting this client") == 1
    assert any(n.startswith("waited ") and "rate-limit window" in n for n in summary["notes"]), summary[
        "notes"
    ]
    assert "complete:" in result.out


def test_a_rate_limit_that_persists_gives_one_message_and_skips(tmp_path):
    from conformance.reference.launcher import running_reference

    # 25 an hour: no window passes within the 10 s the profile lets the run wait.
    with running_reference(state_dir=tmp_path / "state", rate_limit="25/h") as ref:
        result = run_cli(
            ["run", "--profile", str(with_options(ref, tmp_path, "rate_limit_wait_s = 10")), "--no-html"],
            env=ref.env,
            report_dir=tmp_path / "report",
        )
    assert "Traceback" not in result.console
    summary = result.summary()
    limited = [c for c in summary["checks"] if c["outcome"] == "skipped" and "rate limiting" in c["message"]]
    assert len(limited) >= 10
    assert summary["counts"]["failed"] == 0, [c["id"] for c in summary["checks"] if c["outcome"] == "failed"]
    assert all(c["skip_kind"] == "inconclusive" for c in limited)
    assert result.code == 4, result.console[-2000:]
    assert summary["exit_code"] == 4 and "incomplete" in result.out
    assert result.out.count("note: the token endpoint answered 403") == 1
    assert "after 10 s of waiting" in result.out
    assert result.out.count("note: the token endpoint is rate limiting this client") == 1


# Waiting for the window, against a scripted token endpoint (no real time passes: `sleep` is
# replaced, and what it was asked to sleep is what the tests read).

TOKEN = "/oauth2/access_token"
LIMITED_HTML = b"<!doctype html><title>403 Forbidden</title><h1>403 Forbidden</h1>"


class Endpoint:
    """A token endpoint that refuses the first `limited` requests (every method, as the LMS's
    django-ratelimit does), then answers with a token."""

    def __init__(self, limited: int, status: int = 403, retry_after: str | None = None) -> None:
        self.limited, self.status, self.retry_after = limited, status, retry_after
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.method)
        if len(self.seen) <= self.limited:
            headers = {"Content-Type": "text/html"}
            if self.retry_after is not None:
                headers["Retry-After"] = self.retry_after
            return httpx.Response(self.status, content=LIMITED_HTML, headers=headers)
        if request.method == "GET":
            return httpx.Response(405, json={"detail": 'Method "GET" not allowed.'})
        return httpx.Response(200, json={"access_token": "tok", "token_type": "JWT", "expires_in": 3600})


def client(endpoint: Endpoint, wait_s: float = 130) -> tuple[Http, list[float], list[str]]:
    http = Http("http://lms.test", transport=httpx.MockTransport(endpoint), max_rate_limit_wait_s=wait_s)
    slept: list[float] = []
    said: list[str] = []
    http.sleep = slept.append
    http.on_wait = said.append
    return http, slept, said


def test_a_403_rate_limit_is_waited_out_then_the_request_goes_on():
    # Refused: the POST, its confirming GET, and the GETs of the first two polls; the third passes.
    endpoint = Endpoint(limited=4)
    http, slept, said = client(endpoint)
    ex = http.post(TOKEN, data={"grant_type": "client_credentials"})
    assert ex.status == 200
    assert endpoint.seen == ["POST", "GET", "GET", "GET", "GET", "POST"]
    assert slept == [POLL_S] * 3 and http.rate_limit_waited_s == 3 * POLL_S
    assert len(said) == 1 and "waiting up to 65 s" in said[0] and "HTTP 403" in said[0]
    assert http.rate_limited is None


def test_retry_after_is_obeyed_and_the_console_hears_of_waiting_once():
    endpoint = Endpoint(limited=2, status=429, retry_after="7")
    http, slept, said = client(endpoint)
    assert http.post(TOKEN, data={}).status == 200
    endpoint.limited, endpoint.seen = 2, []  # limited again, later in the run
    assert http.post(TOKEN, data={}).status == 200
    assert slept == [7.0, 7.0] and len(said) == 1 and "Retry-After: 7 s" in said[0]


def test_a_limit_that_persists_is_inconclusive_within_the_profiles_bound():
    endpoint = Endpoint(limited=10_000)
    http, slept, said = client(endpoint, wait_s=12)
    with pytest.raises(RateLimited, match="after 12 s of waiting"):
        http.post(TOKEN, data={})
    assert sum(slept) == 12 and len(said) == 1
    sent = len(endpoint.seen)
    with pytest.raises(RateLimited):  # from now on the token endpoint is not asked again
        http.post(TOKEN, data={})
    assert len(endpoint.seen) == sent and sum(slept) == 12


@pytest.mark.parametrize(("wait_s", "retry_after"), [(0, None), (0, "5"), (60, "120")])
def test_no_wait_when_the_profile_allows_none_or_retry_after_is_longer(wait_s, retry_after):
    endpoint = Endpoint(limited=10_000, status=429, retry_after=retry_after)
    http, slept, said = client(endpoint, wait_s=wait_s)
    with pytest.raises(RateLimited, match="rate limiting"):
        http.post(TOKEN, data={})
    assert slept == [] and said == []


def test_a_403_with_an_oauth_error_is_an_answer_not_a_rate_limit():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"error": "access_denied"})

    http = Http("http://lms.test", transport=httpx.MockTransport(handler))
    http.sleep = lambda seconds: pytest.fail("slept on an OAuth error")
    assert http.post(TOKEN, data={}).status == 403
