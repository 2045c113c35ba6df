"""The guides stay true: every check id they name exists, every suite command they show parses with
the real command line, and every relative link points at a file (and heading) that exists.

`cli_commands` and `parse_cli` are also what tests/test_ci_recipes.py checks the CI recipes with."""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import io
import re
import shlex
from pathlib import Path, PurePosixPath

import pytest

from conformance._lib.registry import AREAS, load_checks, matches
from conformance._lib.schemas import load_schema
from conformance.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md"))
LINKED = [*DOCS, ROOT / "README.md"]
CHECKS = load_checks()

# The suite's command, however it is spelled: the console script, the module, the checkout wrapper.
PROGRAM = re.compile(
    r"(?<![\w/.-])(?:openedx-oauth-conformance|python3? -m conformance|(?:\./)?bin/conformance)(?=\s|$)"
)
SHELL_OPERATOR = set(";&|()<>")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
_AREA = "|".join(sorted(map(re.escape, AREAS), key=len, reverse=True))
# A check id, id[case] or id glob as written in prose: an area, then dotted lower-case parts.
CHECK_REF = re.compile(rf"^(?:{_AREA})\.[a-z0-9*-]+(?:\.[a-z0-9*-]+)*(?:\[[^\]]+\])?$")
# Unquoted mentions in running text: at least three dotted parts, so that hosts and paths don't match.
CHECK_IN_TEXT = re.compile(rf"(?<![\w./-])(?:{_AREA})\.[a-z0-9-]+\.[a-z0-9-]+(?:\.[a-z0-9-]+)*(?![\w/])")
WAIVER_CHECK = re.compile(r'^\s*check\s*=\s*"([^"]+)"', re.M)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.M)
URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


# Shell: the suite's command lines in a script -------------------------------------------------------


def logical_lines(script: str) -> list[str]:
    """Lines of a shell script with backslash continuations joined and a leading `$ ` prompt dropped."""
    joined = re.sub(r"\\\n", " ", script)
    return [re.sub(r"^\s*\$\s+", "", line) for line in joined.splitlines()]


def cli_commands(script: str) -> list[list[str]]:
    """The argument vectors of every suite command in a script (after the program name), each up to
    the first shell operator: `;`, `&&`, `||`, `|`, a redirection or a parenthesis."""
    found = []
    for line in logical_lines(script):
        for match in PROGRAM.finditer(line):
            lexer = shlex.shlex(line[match.end() :], posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            tokens = list(lexer)
            argv: list[str] = []
            for token in tokens:
                if token and set(token) <= SHELL_OPERATOR:
                    if token[0] in "<>" and argv and argv[-1].isdigit():
                        argv.pop()  # the 2 of 2>&1
                    break
                argv.append(token)
            found.append(argv)
    return found


def parse_cli(argv: list[str]) -> argparse.Namespace:
    """Parse as `openedx-oauth-conformance ARGV` would; an option the CLI lacks fails the test."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            return build_parser().parse_args(argv)
        except SystemExit as exc:
            problem = stderr.getvalue().strip().splitlines()
            raise AssertionError(
                f"`openedx-oauth-conformance {shlex.join(argv)}` does not parse (exit {exc.code}): "
                + (problem[-1] if problem else "no message")
            ) from None


def unknown_selectors(args: argparse.Namespace) -> list[str]:
    """--select/--deselect values that match no check (an id, prefix, area or catalogue ref)."""
    selectors = [*(getattr(args, "select", None) or []), *(getattr(args, "deselect", None) or [])]
    return [s for s in selectors if not any(matches(meta, s) for meta in CHECKS.values())]


# Markdown -------------------------------------------------------------------------------------------


def without_code(text: str) -> str:
    return INLINE_CODE.sub("", FENCE.sub("", text))


def code_blocks(text: str) -> list[str]:
    return FENCE.findall(text)


def inline_code(text: str) -> list[str]:
    return INLINE_CODE.findall(FENCE.sub("", text))


def profile_key_paths() -> set[str]:
    """`section.key` names of the profile schema (jwt.issuer, ...): they look like check ids."""
    schema = load_schema("profile")
    paths = set()
    for section, sub in schema["properties"].items():
        for key in sub.get("properties", {}):
            paths.add(f"{section}.{key}")
        for key in sub.get("items", {}).get("properties", {}):
            paths.add(f"{section}.{key}")
    return paths


PROFILE_KEYS = profile_key_paths()


def check_exists(reference: str) -> bool:
    """An exact id, id[case] (of an existing id), or a glob matching at least one id."""
    base = reference.split("[", 1)[0]
    if "*" in base:
        return any(fnmatch.fnmatchcase(check_id, base) for check_id in CHECKS)
    return base in CHECKS


def check_references(text: str) -> list[str]:
    spans = [s.strip() for s in inline_code(text)]
    refs = [s for s in spans if CHECK_REF.match(s) and s not in PROFILE_KEYS]
    refs += CHECK_IN_TEXT.findall(without_code(text))
    for block in code_blocks(text):
        refs += WAIVER_CHECK.findall(block)
    return refs


def doc_commands(text: str) -> list[list[str]]:
    commands = [argv for block in code_blocks(text) for argv in cli_commands(block)]
    # Inline spans count when they show arguments; a bare program name is prose.
    commands += [argv for span in inline_code(text) for argv in cli_commands(span) if argv]
    return commands


def heading_slugs(path: Path) -> set[str]:
    """GitHub's anchors for a Markdown file's headings (lower case, punctuation dropped, - for space)."""
    slugs: set[str] = set()
    for line in FENCE.sub("", path.read_text(encoding="utf-8")).splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not heading:
            continue
        base = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
        slug, n = base, 0
        while slug in slugs:
            n += 1
            slug = f"{base}-{n}"
        slugs.add(slug)
    return slugs


def relative_links(path: Path) -> list[str]:
    text = without_code(path.read_text(encoding="utf-8"))
    targets = LINK.findall(text) + REFERENCE_LINK.findall(text)
    return [t for t in targets if not URL_SCHEME.match(t) and not t.startswith("//")]


# Tests ----------------------------------------------------------------------------------------------


def test_the_guides_exist():
    names = {p.name for p in DOCS}
    assert {"operator-guide.md", "ci.md"} <= names
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Guides" in readme
    for target in ("docs/operator-guide.md", "docs/ci.md", "examples/"):
        assert f"]({target})" in readme, f"README's Guides section links {target}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_check_id_mentioned_exists(doc):
    refs = check_references(doc.read_text(encoding="utf-8"))
    assert refs, f"{doc.name} names no check"
    unknown = sorted({r for r in refs if not check_exists(r)})
    assert not unknown, f"{doc.name} names checks that do not exist: {unknown}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_command_shown_parses(doc):
    commands = doc_commands(doc.read_text(encoding="utf-8"))
    assert commands, f"{doc.name} shows no openedx-oauth-conformance command"
    for argv in commands:
        args = parse_cli(argv)
        assert not unknown_selectors(args), f"{shlex.join(argv)}: selects no check"
        for profile in getattr(args, "profile", None) or []:
            # Paths into this repository must exist; other names are the reader's own files.
            if PurePosixPath(profile).parts[0] in ("examples", "profiles"):
                assert (ROOT / profile).is_file(), f"{shlex.join(argv)}: no such profile {profile}"


@pytest.mark.parametrize("doc", LINKED, ids=lambda p: p.name)
def test_every_relative_link_resolves(doc):
    for target in relative_links(doc):
        where, _, anchor = target.partition("#")
        path = (doc.parent / where).resolve() if where else doc
        assert path.exists(), f"{doc.name}: link {target} points at nothing"
        assert path == ROOT or ROOT in path.parents, f"{doc.name}: link {target} leaves the repository"
        if anchor and path.suffix == ".md":
            assert anchor in heading_slugs(path), f"{doc.name}: link {target}: no such heading"


# What the troubleshooting table must cover: the operator failure modes (docs/clauses.md, oauth-9) and
# the key words an operator searches the page for.
FAILURE_MODES = {
    "issuer mismatch": (["jwt.claims.iss", "resources.services.accept-jwt"], ["JWT_ISSUERS"]),
    "http vs https": (
        ["transport.https.token-endpoint"],
        ["X-Forwarded-Proto", "SECURE_PROXY_SSL_HEADER", "ENABLE_HTTPS"],
    ),
    "key format after Quince": (["jwt.structure.compact-jws"], ["`dp`", "`dq`", "`qi`"]),
    "symmetric secret divergence": (
        ["resources.jwt.accepted[default]"],
        ["JWT_SECRET_KEY", "JWT_ISSUERS[0].SECRET_KEY", "HS256 refused, RS512 accepted"],
    ),
    "clock skew": (["jwt.claims.times"], ["NTP"]),
    "rate limiting": (["bad-credentials.throttling"], ["RATELIMIT_RATE", "403", "120"]),
    "cache headers": (
        ["response-schema.cache-control.no-store", "response-schema.pragma.no-cache"],
        ["Cache-Control: no-store"],
    ),
    "weak HS256 secret": (["jwt-attacks.weak-hmac-secret"], ["JWT_SECRET_KEY"]),
    "private key published": (["jwt.jwks.public-only"], ["JWT_PRIVATE_SIGNING_JWK"]),
    "stale profile key": (["jwt.profile-keys.hs256-secret", "jwt.profile-keys.jwks"], ["not verified"]),
}


@pytest.mark.parametrize("mode", FAILURE_MODES)
def test_troubleshooting_covers_the_failure_mode(mode):
    text = (ROOT / "docs" / "operator-guide.md").read_text(encoding="utf-8")
    table = text[text.index("## 8. Troubleshooting") :]
    check_ids, words = FAILURE_MODES[mode]
    for check_id in check_ids:
        assert check_exists(check_id)
        assert f"`{check_id}`" in table, f"troubleshooting: {mode}: {check_id} missing"
    for word in words:
        assert word in table, f"troubleshooting: {mode}: {word!r} missing"


# The checkers themselves: they must be able to fail.


def test_an_option_the_cli_lacks_fails():
    with pytest.raises(AssertionError, match="--no-such-option"):
        parse_cli(["run", "--no-such-option"])
    with pytest.raises(AssertionError):
        parse_cli([])


def test_commands_are_found_as_a_shell_would_run_them():
    script = (
        "$ openedx-oauth-conformance run --profile a.toml \\\n    --strict || code=$?\n"
        "python -m conformance compare reports/a reports/b --out x 2>&1 | tee log  # compare\n"
        "if bin/conformance list-checks --format json > checks.json; then :; fi\n"
        "echo openedx-oauth-conformance.egg-info\n"
    )
    assert cli_commands(script) == [
        ["run", "--profile", "a.toml", "--strict"],
        ["compare", "reports/a", "reports/b", "--out", "x"],
        ["list-checks", "--format", "json"],
    ]


def test_check_references_are_recognised():
    text = (
        "`jwt.claims.iss[asymmetric]` and `jwt.issuer` (a profile key) and `jwt.claims.*`; "
        'jwt-attacks.no-such.check in prose\n```toml\ncheck = "transport.hsts"\n```\n'
    )
    refs = check_references(text)
    assert "jwt.issuer" not in refs
    assert {"jwt.claims.iss[asymmetric]", "jwt.claims.*", "transport.hsts"} <= set(refs)
    assert [r for r in refs if not check_exists(r)] == ["jwt-attacks.no-such.check"]


def test_heading_anchors_follow_github():
    guide = ROOT / "docs" / "operator-guide.md"
    assert "4-deriving-the-public-keys-jwks-from-pem" in heading_slugs(guide)
    assert "8-troubleshooting" in heading_slugs(guide)
