"""The commands the README and docs/ show for pasting run, as pasted, and do what the text says.

Each document's shell blocks (```sh), and its inline spans that hold a concrete suite command, run
in document order in one temporary folder per document, with bash, against one reference instance
(`reference serve`, through the launcher) whose environment file stands for the variables an
operator exports. What the test changes, and only that:

- a profile a command names (`examples/profiles/production.toml`, `staging.toml`, ...) that is not
  in the folder is the reference instance's profile, named after the file: the commands run as
  written against a real instance, the profile's contents are not what is under test here (the
  example profiles are checked by tests/test_ci_recipes.py);
- absolute paths under /tmp, /etc and /var move into the temporary folder (a shared machine);
- a crontab line runs its command; `reference serve` runs in the background until READY, and stops
  when the block ends;
- curl's `http_proxy` points at a local stand-in, so the Pushgateway line reaches something;
- what cannot run here is in NOT_RUN, with why; an entry there that no document holds any more fails.

A block (or span) passes when bash exits as EXPECT says (0 unless listed) and the text EXPECT
names is in its output."""

from __future__ import annotations

import http.server
import os
import re
import shlex
import shutil
import subprocess
import textwrap
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, run_captured
from tests.test_docs import cli_commands, inline_code, logical_lines

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Fences, indented ones (inside a list item) too.
FENCE = re.compile(r"^([ \t]*)```([^\n]*)\n(.*?)^\1```", re.S | re.M)
SHELL = {"sh", "bash", "shell"}
# A template in running text, not a command to paste: a placeholder (REPORT_DIR, FILE) or an ellipsis.
TEMPLATE = re.compile(r"\b[A-Z][A-Z_]{2,}\b|\.\.\.")
CRONTAB = re.compile(r"^(?:\S+\s+){5}(openedx-oauth-conformance\s.*)$")
PROFILE_OPTION = re.compile(r"--(?:oauth-)?profile[ =](\S+)")

# Lines that do not run here, by a pattern of how they start: why, and what runs them instead.
NOT_RUN = {
    r"pip install (\. )?\./tutor-plugin": "installs into Tutor's environment (tests/test_tutor_plugin.py)",
    r"tutor ": "needs Tutor and its Docker host (tests/test_tutor_plugin.py runs the plugin's suite)",
    r"\(umask 077 && tutor config printvalue": "needs Tutor: the test writes lms-private.pem from the "
    "reference instance's key instead",
    r"\./manage\.py lms ": "needs the platform's manage.py and database",
    r"bin/test\b": "the project's own test suite, which this test is part of",
    r"python -m build": "tests/test_wheel.py builds the wheel and sdist (once a session: 2-4 minutes)",
    r"pip install 'dist/openedx_oauth_conformance-": "tests/test_wheel.py installs the wheel with the "
    "reference extra into a fresh venv outside the checkout and runs it",
}


def not_run(line: str) -> str | None:
    """Why the line does not run here, or None."""
    return next((why for pattern, why in NOT_RUN.items() if re.match(pattern, line.strip())), None)


@dataclass
class Item:
    """One thing to paste: a shell block or an inline command, where the document has it."""

    doc: Path
    line: int
    script: str
    inline: bool

    @property
    def id(self) -> str:
        return f"{self.doc.name}:{self.line}"


def items(doc: Path) -> list[Item]:
    text = doc.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        if match.group(2).strip() in SHELL:
            line = text[: match.start()].count("\n") + 1
            found.append(Item(doc, line, textwrap.dedent(match.group(3)), inline=False))
    without_fences = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    for match in re.finditer(r"`([^`\n]+)`", without_fences):
        span = match.group(1)
        commands = cli_commands(span)
        if commands and commands[0] and not TEMPLATE.search(span):
            line = without_fences[: match.start()].count("\n") + 1
            found.append(Item(doc, line, span + "\n", inline=True))
    return sorted(found, key=lambda item: item.line)


ALL = [item for doc in DOCS for item in items(doc)]
# Blocks that end otherwise than with 0, and what their output says.
EXPECT: dict[str, tuple[int, str]] = {
    # The troubleshooting table: a private JWK without dp, dq, qi is refused, in these words.
    "jwks-from-pem private-jwk.json": (2, "not a usable JWK (InvalidKeyError)"),
}


def test_every_pasteable_line_runs_or_says_why_not():
    """NOT_RUN names only lines a document still holds; the documents show commands to run."""
    lines = [line.strip() for item in ALL for line in logical_lines(item.script)]
    for pattern in NOT_RUN:
        assert any(re.match(pattern, line) for line in lines), f"NOT_RUN: no document has {pattern!r}"
    run_here = [line for line in lines if line and not not_run(line)]
    assert len(run_here) >= 25, run_here


def test_a_command_outside_a_shell_block_is_only_a_synopsis():
    """A suite command in a fence without `sh` would escape this test: only the README's synopsis
    (options in brackets) may be one."""
    for doc in DOCS:
        for match in FENCE.finditer(doc.read_text(encoding="utf-8")):
            if match.group(2).strip() in SHELL:
                continue
            for line in logical_lines(textwrap.dedent(match.group(3))):
                if cli_commands(line) and "[" not in line:
                    raise AssertionError(f"{doc.name}: a command outside a ```sh block: {line.strip()}")


def test_inline_templates_are_not_taken_for_commands():
    spans = [s for doc in DOCS for s in inline_code(doc.read_text(encoding="utf-8"))]
    assert "openedx-oauth-conformance render REPORT_DIR" in spans
    assert not [i for i in ALL if "REPORT_DIR" in i.script]


# Running ---------------------------------------------------------------------------------------------


class _Pushgateway(http.server.BaseHTTPRequestHandler):
    """What curl reaches through http_proxy: records each request (absolute URL, body)."""

    received: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.received.append((self.command, self.path, self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PUT = do_POST

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def pushgateway() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    _Pushgateway.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pushgateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Pushgateway.received
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pytest.importorskip("django")
    from conformance.reference.launcher import running_reference

    with running_reference(
        state_dir=tmp_path_factory.mktemp("docs-ref"), rate_limit="100000/m", login_rate_limit="100000/m"
    ) as ref:
        yield ref


SERVE_PRELUDE = """\
set -e
_serving=()
_serve() {  # a `reference serve` line: in the background until it says READY
  local log; log="$(mktemp "$SANDBOX/serve.XXXX")"
  "$@" >"$log" 2>&1 &
  _serving+=("$!")
  for _ in $(seq 1 240); do
    grep -q '^READY ' "$log" && return 0
    kill -0 "$!" 2>/dev/null || { cat "$log"; return 1; }
    sleep 0.25
  done
  cat "$log"; return 1
}
trap 'for p in "${_serving[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done' EXIT
"""


def to_script(item: Item) -> str:
    """The block as bash runs it here (the changes the module docstring lists)."""
    out = [SERVE_PRELUDE]
    for line in logical_lines(item.script):
        stripped = line.strip()
        reason = not_run(stripped)
        if reason:
            out.append(f": not run here: {shlex.quote(reason)}")
            continue
        cron = CRONTAB.match(stripped)
        if cron:
            line = cron.group(1)
        line = re.sub(r"(?<![\w.$/-])/(tmp|etc|var)/", r"$SANDBOX/\1/", line)
        if re.match(r"^openedx-oauth-conformance reference serve\b", line.strip()):
            line = "_serve " + line.strip()
        out.append(line)
    return "\n".join(out) + "\n"


def profiles_named(script: str, folder: Path, sandbox: Path) -> list[Path]:
    """The profiles the script's commands name that the reader would have written: relative
    paths, and those under /etc (a server's /tmp state dir holds the profile it writes itself)."""
    paths = []
    for name in PROFILE_OPTION.findall(script):
        if name.startswith("$SANDBOX/etc/"):
            paths.append(sandbox / name.removeprefix("$SANDBOX/"))
        elif not name.startswith(("$", "/")):
            paths.append(folder / name)
    return paths


def write_profile(ref: Any, path: Path) -> None:
    """The reference instance's profile at `path`, named after the file (its report folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = ref.profile_path.read_text(encoding="utf-8")
    text = re.sub(r'^name = ".*"$', f'name = "{path.stem}"', text, count=1, flags=re.M)
    path.write_text(text, encoding="utf-8")
    shutil.copy(ref.state_dir / "jwks.json", path.parent / "jwks.json")


def _fleet_reports(folder: Path, ref: Any) -> None:
    """`compare` of a fleet reads the report folders the fleet's jobs published: made here by
    copying the production job's report under the other jobs' names."""
    production = folder / "reports" / "production"
    assert (production / "summary.json").is_file(), "the production run above wrote no report"
    for name in ("staging", "next-release"):
        target = folder / "reports" / name
        if not target.exists():
            shutil.copytree(production, target)
            summary = (target / "summary.json").read_text(encoding="utf-8")
            (target / "summary.json").write_text(
                summary.replace('"profile": "production"', f'"profile": "{name}"'), encoding="utf-8"
            )


def _private_pem(folder: Path, ref: Any) -> None:
    """What `tutor config printvalue JWT_RSA_PRIVATE_KEY > lms-private.pem` writes: the LMS's key."""
    pem = next(p for p in ref.state_dir.rglob("*.pem") if b"PRIVATE KEY" in p.read_bytes())
    shutil.copy(pem, folder / "lms-private.pem")


def _incomplete_private_jwk(folder: Path, ref: Any) -> None:
    """A JWT_PRIVATE_SIGNING_JWK from before Quince: p and q, but no dp, dq, qi."""
    import json

    private = json.loads((ref.state_dir / "jwt-private.json").read_text(encoding="utf-8"))
    key = private["keys"][0] if "keys" in private else private
    (folder / "private-jwk.json").write_text(
        json.dumps({k: v for k, v in key.items() if k not in {"dp", "dq", "qi"}}), encoding="utf-8"
    )


def _checkout_wrapper(folder: Path, ref: Any) -> None:
    """`bin/conformance` as in a checkout: the checkout's own script, run from this folder."""
    (folder / "bin").mkdir(exist_ok=True)
    wrapper = folder / "bin" / "conformance"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(str(ROOT / "bin" / "conformance"))} "$@"\n')
    wrapper.chmod(0o755)


# Before a block, by a piece of its text: what the reader has at that point that the test makes.
PREPARE: dict[str, Callable[[Path, Any], None]] = {
    "compare reports/production reports/staging reports/next-release": _fleet_reports,
    "jwks-from-pem lms-private.pem": _private_pem,
    "jwks-from-pem private-jwk.json": _incomplete_private_jwk,
    "bin/conformance run": _checkout_wrapper,
}


def run_item(item: Item, folder: Path, ref: Any, proxy: str) -> subprocess.CompletedProcess[str]:
    for piece, prepare in PREPARE.items():
        if piece in item.script:
            prepare(folder, ref)
    sandbox = folder / "sandbox"
    for sub in ("tmp", "etc", "var"):
        (sandbox / sub).mkdir(parents=True, exist_ok=True)
    script = to_script(item)
    for path in profiles_named(script, folder, sandbox):
        if not path.exists():
            write_profile(ref, path)
    env = {
        "PATH": f"{ROOT / '.venv' / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(folder),
        "SANDBOX": str(sandbox),
        "http_proxy": proxy,  # the Pushgateway stand-in; loopback goes direct
        "no_proxy": "127.0.0.1,localhost",
        "NO_PROXY": "127.0.0.1,localhost",
        **{k: v for k, v in os.environ.items() if k in {"LANG", "LC_ALL", "TMPDIR"}},
        **ref.env,
    }
    return run_captured(["bash", "-c", script], env=env, cwd=folder, timeout=900)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_the_documents_commands_run_as_pasted(doc, reference, pushgateway, tmp_path):
    proxy, received = pushgateway
    doc_items = [item for item in ALL if item.doc == doc]
    if not doc_items:
        pytest.skip(f"{doc.name} shows no command to paste")  # clauses.md: sources, not commands
    for item in doc_items:
        result = run_item(item, tmp_path, reference, proxy)
        code, words = next((v for k, v in EXPECT.items() if k in item.script), (0, ""))
        output = result.stdout + result.stderr
        assert result.returncode == code, (
            f"{item.id}: exit {result.returncode}\n{item.script}\n{output[-3000:]}"
        )
        assert words in output, f"{item.id}: {words!r} not in the output\n{output[-2000:]}"
        assert "Traceback" not in output, f"{item.id}\n{output[-3000:]}"
    if doc.name == "monitoring.md":
        assert any(b"oauth_conformance_" in body for _, _, body in received), received
        assert any(path.startswith("http://pushgateway:9091/metrics/job/") for _, path, _ in received)


def test_the_harness_fails_a_command_that_fails(reference, pushgateway, tmp_path):
    """The runner can fail: a stale option, and a line NOT_RUN does not cover, are caught."""
    doc = ROOT / "README.md"
    stale = run_item(
        Item(doc, 1, "openedx-oauth-conformance run --no-such-option\n", False), tmp_path, reference, ""
    )
    assert stale.returncode == 2 and "--no-such-option" in stale.stderr
    skipped = to_script(Item(doc, 1, "tutor local do init\nbin/test -k x\n", False))
    assert "tutor local do init" not in skipped and ": not run here:" in skipped
    moved = to_script(Item(doc, 1, "17 * * * * openedx-oauth-conformance run --profile /etc/p.toml\n", False))
    assert "\nopenedx-oauth-conformance run --profile $SANDBOX/etc/p.toml\n" in moved
