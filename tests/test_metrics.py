"""`run --metrics FILE`: OpenMetrics text that both prometheus_client parsers read (OpenMetrics 1.0
and the text format 0.0.4 of the node_exporter textfile collector), carrying the run's figures,
written atomically, and still written when the instance cannot be reached."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_prometheus

from conformance.metrics import certificate_days_left, metrics_text, previous_complete_run, write_metrics
from tests.conftest import run_cli

SUMMARY = {
    "profile": "staging",
    "base_url": "https://lms.staging.example.org",
    "suite_version": "0.1.0",
    "duration_s": 3.2,
    "requests": 61,
    "token_requests": 30,
    "token_endpoint_ms": {"count": 30, "median": 41.5, "p90": 80.0, "max": 120.25},
    "strict": False,
    "exit_code": 1,
    "counts": {"passed": 2, "failed": 1, "skipped": 1, "waived": 0},
    "checks": [
        {"id": "jwt.claims.aud[default]", "area": "jwt", "level": "MUST", "outcome": "failed"},
        {"id": "jwt.claims.aud[asymmetric]", "area": "jwt", "level": "MUST", "outcome": "passed"},
        {"id": 'odd."quoted"\\id', "area": "token-endpoint", "level": "SHOULD", "outcome": "passed"},
        {"id": "transport.hsts", "area": "transport", "level": "SHOULD", "outcome": "skipped"},
    ],
}


def samples(text: str, parser=parse_openmetrics) -> dict[str, list]:
    found: dict[str, list] = {}
    for family in parser(text):
        assert family.type == "gauge", family.name
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


def one(found: dict[str, list], name: str, **labels: str) -> float:
    matching = [s for s in found[name] if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(matching) == 1, (name, labels, matching)
    return matching[0].value


def test_text_parses_as_openmetrics_and_as_prometheus_text():
    text = metrics_text(SUMMARY, now=1_800_000_000.0, certificate_days=42.5)
    assert text.endswith("# EOF\n")
    for parser in (parse_openmetrics, parse_prometheus):
        found = samples(text, parser)
        assert set(found) >= {
            "oauth_conformance_check_outcome",
            "oauth_conformance_checks",
            "oauth_conformance_run_duration_seconds",
            "oauth_conformance_token_endpoint_latency_seconds",
            "oauth_conformance_certificate_days_left",
            "oauth_conformance_exit_status",
            "oauth_conformance_last_complete_run_timestamp_seconds",
        }


def test_figures_of_a_run():
    found = samples(metrics_text(SUMMARY, now=1_800_000_000.0, certificate_days=42.5))
    p = {"profile": "staging"}
    assert (
        one(found, "oauth_conformance_check_outcome", case="jwt.claims.aud[default]", outcome="failed") == 1
    )
    assert one(found, "oauth_conformance_check_outcome", case='odd."quoted"\\id', level="SHOULD") == 1
    assert {s.labels["check"] for s in found["oauth_conformance_check_outcome"]} >= {"jwt.claims.aud"}
    assert one(found, "oauth_conformance_checks", area="jwt", outcome="failed", **p) == 1
    assert one(found, "oauth_conformance_checks", area="jwt", outcome="passed", **p) == 1
    assert one(found, "oauth_conformance_checks", area="jwt", outcome="waived", **p) == 0
    assert one(found, "oauth_conformance_failed_checks", level="MUST", gating="true") == 1
    assert one(found, "oauth_conformance_run_duration_seconds", **p) == 3.2
    assert one(found, "oauth_conformance_requests", **p) == 61
    assert one(found, "oauth_conformance_token_endpoint_latency_seconds", stat="median") == 0.0415
    assert one(found, "oauth_conformance_token_endpoint_latency_seconds", stat="max") == 0.12025
    assert one(found, "oauth_conformance_certificate_days_left", **p) == 42.5
    assert one(found, "oauth_conformance_exit_status", **p) == 1
    assert one(found, "oauth_conformance_run_complete", **p) == 1  # exit 1: every check has a verdict
    assert one(found, "oauth_conformance_last_complete_run_timestamp_seconds", **p) == 1_800_000_000.0


def test_summary_fields_of_the_next_round_are_read_when_present():
    summary = dict(SUMMARY, exit_code=4, complete=False, coverage={"MUST": {"applicable": 55, "ran": 50}})
    found = samples(metrics_text(summary, now=2.0, previous_complete=1.0))
    assert one(found, "oauth_conformance_exit_status") == 4
    assert one(found, "oauth_conformance_run_complete") == 0
    assert one(found, "oauth_conformance_coverage", level="MUST", figure="ran") == 50
    # An incomplete run keeps the time of the last complete one.
    assert one(found, "oauth_conformance_last_complete_run_timestamp_seconds") == 1.0
    assert one(found, "oauth_conformance_last_run_timestamp_seconds") == 2.0


def test_no_certificate_figure_when_unknown():
    found = samples(metrics_text(SUMMARY))
    assert "oauth_conformance_certificate_days_left" not in found


def test_write_is_atomic_and_replaces(tmp_path):
    target = tmp_path / "textfile" / "oauth.prom"
    write_metrics(target, metrics_text(SUMMARY, now=5.0))
    write_metrics(target, metrics_text(SUMMARY, now=6.0))
    assert [p.name for p in target.parent.iterdir()] == ["oauth.prom"]  # no temporary file left
    assert target.stat().st_mode & 0o777 == 0o644
    assert previous_complete_run(target, "staging") == 6.0
    assert previous_complete_run(target, "other") is None


def test_run_writes_metrics(reference, tmp_path):
    target = tmp_path / "oauth.prom"
    args = ["run", "--profile", str(reference.profile_path), "--no-html", "--select", "jwt.claims"]
    result = run_cli(
        [*args, "--metrics", str(target)],
        env=reference.env,
        report_dir=tmp_path / "report",
    )
    assert result.code == 0, result.console[-2000:]
    summary = result.summary()
    found = samples(target.read_text())
    p = {"profile": "reference"}
    assert len(found["oauth_conformance_check_outcome"]) == len(summary["checks"])
    assert one(found, "oauth_conformance_exit_status", **p) == 0
    assert one(found, "oauth_conformance_run_complete", **p) == 1
    assert one(found, "oauth_conformance_token_endpoint_latency_seconds", stat="max") > 0
    assert one(found, "oauth_conformance_requests", **p) == summary["requests"]
    assert one(found, "oauth_conformance_last_complete_run_timestamp_seconds", **p) == one(
        found, "oauth_conformance_last_run_timestamp_seconds", **p
    )
    assert "oauth_conformance_certificate_days_left" not in found  # plain http loopback
    for secret in reference.env.values():
        if len(secret) > 12:
            assert secret not in target.read_text()


def test_unreachable_run_still_writes_metrics(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    profile = tmp_path / "down.toml"
    profile.write_text(
        f'name = "down"\nbase_url = "http://127.0.0.1:{port}"\n[client]\nid = "x"\nsecret = "${{S}}"\n'
    )
    target = tmp_path / "oauth.prom"
    write_metrics(target, metrics_text(dict(SUMMARY, profile="down", exit_code=0), now=1000.0))
    result = run_cli(["run", "--profile", str(profile), "--metrics", str(target)], env={"S": "secret-value"})
    assert result.code == 3, result.console
    found = samples(target.read_text())
    assert one(found, "oauth_conformance_exit_status", profile="down") == 3
    assert one(found, "oauth_conformance_run_complete", profile="down") == 0
    assert one(found, "oauth_conformance_last_complete_run_timestamp_seconds", profile="down") == 1000.0


def test_certificate_days_left_from_a_tls_handshake(tmp_path):
    from tests.hostile_server import make_self_signed

    cert_file, key_file = make_self_signed(tmp_path)  # 30 days, for 127.0.0.1 and localhost
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            with server_context.wrap_socket(conn, server_side=True):
                pass
        except (OSError, ssl.SSLError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        days = certificate_days_left(f"https://localhost:{port}", cafile=str(cert_file))
    finally:
        thread.join(5)
        listener.close()
    assert days is not None and 29 < days <= 30
    assert certificate_days_left("http://localhost:1") is None


def test_metrics_option_is_documented():
    text = (Path(__file__).resolve().parents[1] / "docs" / "monitoring.md").read_text()
    assert "--metrics" in text and "alert:" in text
    assert "oauth_conformance_last_complete_run_timestamp_seconds" in text
