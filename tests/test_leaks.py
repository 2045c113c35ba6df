"""Secrets never leave the process: every artifact and the console are searched for every secret,
password, issued token and JWT signature, on a clean run and on runs where checks fail."""

from __future__ import annotations

import base64
import binascii
import json
import re
from pathlib import Path

import pytest

from conformance.reference import accounts
from tests.conftest import run_cli

# Faults chosen so that failing checks print responses that carry tokens and secrets.
FAILING = [
    "expires-in-string",
    "accept-alg-none",
    "secret-prefix",
    "wrong-issuer",
    # accounts checks that fail with the refused users' and applications' tokens in their output
    "disabled-by-is-active",
    "deleted-client-still-authenticates",
]
# Sign-in faults whose failing checks print authorization codes, JWT cookies and session cookies.
FAILING += ["authorize-state-dropped", "jwt-cookie-not-httponly", "login-refresh-jwt-cookie-auth"]
# name -> (faults, extra run arguments); --workers: secrets cross processes and the controller redacts.
SCENARIOS = {
    "clean": ([], []),
    "failing": (FAILING, []),
    "failing-workers": (FAILING, ["--workers", "2"]),
    "tls-failing": ([*FAILING, "no-hsts", "tls-legacy-accepted"], []),
    # Mid-rotation: the profile's jwt.rotation_key (a private JWK) signs control tokens that fail.
    "rotation": ([*FAILING, "discovery-missing-next-key", "discovery-aud-not-verified"], []),
    # Stale profile keys: control tokens re-signed with the profile's secret, wrong secrets through
    # HTTP Basic, and the profile-key failures' messages.
    "stale-keys": (["hs256-secret-stale", "jwks-stale", "secret-prefix", "expires-in-string"], []),
}
# Scenarios run against the reference behind its TLS front (`serve --tls`), whose private key joins
# the secrets searched for.
TLS = {"tls-failing"}
_B64 = re.compile(r"[A-Za-z0-9+/]{200,}={0,2}")


def artifact_texts(report_dir: Path) -> dict[str, str]:
    """Every file as text, plus the base64 blobs that the single-file HTML report embeds."""
    texts = {}
    for path in sorted(p for p in report_dir.rglob("*") if p.is_file()):
        text = path.read_bytes().decode("utf-8", "replace")
        texts[str(path)] = text
        for i, blob in enumerate(_B64.findall(text)):
            try:
                texts[f"{path}#b64-{i}"] = base64.b64decode(blob).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                continue
    return texts


def secrets_of(env: dict[str, str], tokens_file: Path, state_dir: Path | None = None) -> dict[str, str]:
    secrets = {
        "client secret": env["EDX_OAUTH_CLIENT_SECRET"],
        "client secret minus its last character": env["EDX_OAUTH_CLIENT_SECRET"][:-1],
        "test user password": env["EDX_TEST_PASSWORD"],
        "JWT signing secret": env["EDX_JWT_SECRET"],
        "SSO client secret": env["EDX_SSO_CLIENT_SECRET"],
    }
    # The [accounts] entries' passwords, client secrets and the disabled user's refresh token: every
    # variable the reference's env file has for them but the usernames and client ids.
    for name in accounts.env_entries(accounts.material(str)):
        if not name.endswith(("_USERNAME", "_CLIENT_ID")):
            secrets[f"accounts: {name}"] = env[name]
    tokens = [t for t in tokens_file.read_text().splitlines() if t.strip()]
    for i, token in enumerate(tokens):
        secrets[f"issued token #{i}"] = token
        if token.count(".") == 2:
            secrets[f"signature of issued JWT #{i}"] = token.rsplit(".", 1)[1]
    next_key = state_dir / "jwt-next-private.json" if state_dir else None
    if next_key is not None and next_key.exists():
        jwk = json.loads(next_key.read_text())
        for member in ("d", "p", "q", "dp", "dq", "qi"):
            secrets[f"rotation key member {member}"] = jwk[member]
    return secrets


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def searched_run(request, tmp_path_factory):
    from conformance.reference.launcher import running_reference

    tmp = tmp_path_factory.mktemp(f"leaks-{request.param}")
    tokens_file = tmp / "issued-tokens.txt"
    with running_reference(
        state_dir=tmp / "state",
        faults=SCENARIOS[request.param][0],
        record_tokens=tokens_file,
        rate_limit="100000/m",
        tls=request.param in TLS,
    ) as ref:
        argv = ["run", "--profile", str(ref.profile_path), *SCENARIOS[request.param][1]]
        argv += ["--metrics", str(tmp / "report" / "metrics.prom")]  # searched with the rest
        result = run_cli(argv, env=ref.env, report_dir=tmp / "report")
        secrets = secrets_of(ref.env, tokens_file, ref.state_dir)
        if request.param in TLS:
            key_lines = (ref.state_dir / "tls-key.pem").read_text().splitlines()[1:-1]
            secrets |= {f"TLS private key, line {i}": line for i, line in enumerate(key_lines)}
    return request.param, result, secrets


def test_runs_exercise_failures_and_tokens(searched_run):
    scenario, result, secrets = searched_run
    assert result.code == (0 if scenario == "clean" else 1), result.console[-2000:]
    assert sum(name.startswith("issued token") for name in secrets) >= 25
    # The reference records sign-in secrets too: session ids, authorization codes, JWT cookie halves.
    recorded = [v for k, v in secrets.items() if k.startswith("issued token")]
    assert sum(len(v) == 32 and v.isalnum() and v.islower() for v in recorded) >= 2, "session ids"
    assert sum(len(v) == 30 and "." not in v for v in recorded) >= 5, "codes and opaque tokens"
    assert sum(v.count(".") == 1 for v in recorded) >= 2, "JWT cookie header.payload halves"
    if scenario != "clean":
        assert result.summary()["counts"]["failed"] >= 10


def test_no_secret_in_any_artifact_or_the_console(searched_run):
    scenario, result, secrets = searched_run
    places = artifact_texts(result.report_dir)
    places["console"] = result.console
    assert any("html" in p for p in places) or "no HTML report" in result.console
    hits = [
        f"{what} in {where}"
        for what, value in secrets.items()
        for where, text in places.items()
        if value in text
    ]
    assert hits == [], f"{len(hits)} leaks of {len(secrets)} secrets searched: {hits[:5]}"
    print(f"{scenario}: 0 leaks of {len(secrets)} secrets in {len(places)} places")


def test_redaction_keeps_reports_useful(searched_run):
    """Redaction hides values, not the story: JWT claims and request shapes stay readable."""
    _, result, _ = searched_run
    attachments = "".join(
        p.read_text(errors="replace") for p in (result.report_dir / "allure-results").glob("*-attachment*")
    )
    assert "preferred_username" in attachments
    assert "grant_type=client_credentials" in attachments
    assert "[REDACTED]" in attachments
