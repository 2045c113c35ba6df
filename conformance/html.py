"""The HTML report: Allure 3 (the npm package `allure`) renders allure-results into one file.

Allure is looked for, in this order: the executable named by $OPENEDX_CONFORMANCE_ALLURE; the
`node_modules/` of the checkout this package runs from (`npm ci`, the pinned version); the
`node_modules/` of the working folder; an Allure 3 `allure` on PATH; `npx allure@<pinned>` (npm's
cache, else the npm registry). Without any of them the run says how to render later:
`openedx-oauth-conformance render REPORT_DIR` makes the same single-file report.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

from conformance._lib.data import data_file, read_text

__all__ = [
    "ALLURE_ENV",
    "ALLURE_VERSION",
    "CATEGORIES",
    "HISTORY_LIMIT",
    "allure_binary",
    "allure_command",
    "render_command",
    "render_html",
    "render_report_dirs",
    "strip_analytics",
]

# The checkout's root when the package runs from one (editable install or bin/...); in a wheel this
# is site-packages, which has no package.json and so no node_modules of ours.
CHECKOUT = Path(__file__).resolve().parents[1]
CATEGORIES = data_file("allure-categories.json")
ALLURE_ENV = "OPENEDX_CONFORMANCE_ALLURE"
ALLURE_VERSION = "3.18.0"  # the version package.json pins (a test keeps them equal)
# Runs kept in a report dir's history.jsonl (the report's trends); Allure drops the oldest beyond it.
HISTORY_LIMIT = 30
_ANALYTICS = (
    re.compile(r"<script[^>]*googletagmanager[^>]*>\s*</script>\s*", re.I),
    re.compile(r"<script[^>]*>(?:(?!</script>).)*?\bgtag\((?:(?!</script>).)*?</script>\s*", re.I | re.S),
)


def allure_binary() -> Path | None:
    """An Allure 3 executable on this machine (no download), or None. See the module docstring."""
    explicit = os.environ.get(ALLURE_ENV)
    if explicit:
        found = shutil.which(explicit)
        return Path(found) if found else None
    if shutil.which("node") is None:
        return None
    for folder in (CHECKOUT if (CHECKOUT / "package.json").is_file() else None, Path.cwd()):
        binary = folder / "node_modules" / ".bin" / "allure" if folder else None
        if binary is not None and binary.exists():
            return binary
    on_path = shutil.which("allure")
    if on_path and _is_allure3(on_path):
        return Path(on_path)
    return None


def _is_allure3(binary: str) -> bool:
    """Allure 2 (Java) has another command line and no single-file report: only 3.x will do."""
    try:
        proc = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and proc.stdout.strip().startswith("3.")


def allure_command() -> tuple[list[str] | None, str]:
    """The command that runs Allure 3, and where it comes from; (None, why not) when there is none."""
    explicit = os.environ.get(ALLURE_ENV)
    binary = allure_binary()
    if binary is not None:
        return [str(binary)], str(binary)
    if explicit:
        return None, f"${ALLURE_ENV} names {explicit!r}, which is not an executable"
    if shutil.which("node") is None:
        return None, "Node is missing (the HTML report needs Node 20+ and Allure 3)"
    npx = shutil.which("npx")
    if npx is not None:
        return [npx, "--yes", "--prefer-offline", f"allure@{ALLURE_VERSION}"], f"npx allure@{ALLURE_VERSION}"
    return None, f"Allure 3 is missing (npm install allure@{ALLURE_VERSION}, or set ${ALLURE_ENV})"


def render_command(report_dirs: list[Path], output: Path) -> str:
    """The command that renders these report dirs later into `output`, the way a run does."""
    argv = ["openedx-oauth-conformance", "render", *map(str, report_dirs)]
    if output != _default_output(report_dirs):
        argv += ["--out", str(output)]
    return shlex.join(argv)


def _default_output(report_dirs: list[Path]) -> Path:
    # One report dir: its html/ (what `run` writes); several: combined-html/ beside them (`run` with
    # several profiles).
    return report_dirs[0] / "html" if len(report_dirs) == 1 else report_dirs[0].parent / "combined-html"


def strip_analytics(html: str) -> str:
    for pattern in _ANALYTICS:
        html = pattern.sub("", html)
    return html


def _cause_categories(dirs: list[Path]) -> list[dict[str, Any]]:
    """Each run's causes as categories (report.py writes them beside the results), first."""
    found: list[dict[str, Any]] = []
    for results_dir in dirs:
        try:
            found += json.loads((results_dir / "cause-categories.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return found


def allure_categories(extra: list[dict[str, Any]] | None = None) -> list[dict[str, object]]:
    """categories.json (Allure 2 shape) turned into Allure 3 category rules."""
    rules = []
    for entry in [*(extra or []), *json.loads(read_text("allure-categories.json"))]:
        matcher: dict[str, object] = {"statuses": entry["matchedStatuses"]}
        if "labels" in entry:
            matcher["labels"] = entry["labels"]
        if "messageRegex" in entry:
            matcher["message"] = entry["messageRegex"]
        rules.append({"name": entry["name"], "matchers": matcher, "groupByMessage": False})
    return rules


def render_html(
    results: list[Path] | Path,
    output: Path,
    *,
    name: str,
    history: Path | None = None,
    environments: dict[str, str] | None = None,
    timeout_s: float = 300,
) -> str | None:
    """Render; returns None on success or a message saying why not (and how to render later)."""
    # Absolute paths: Allure runs in the output's parent folder, and report dirs may be relative.
    dirs = [p.resolve() for p in ([results] if isinstance(results, Path) else results)]
    output = output.resolve()
    history = history.resolve() if history is not None else None
    later = render_command([d.parent for d in dirs], output)
    command, source = allure_command()
    if command is None:
        return f"{source}; render later with: {later}"
    output.mkdir(parents=True, exist_ok=True)
    config: dict[str, object] = {
        "name": name,
        "output": str(output),
        "categories": {"rules": allure_categories(_cause_categories(dirs))},
        "plugins": {
            "awesome": {"options": {"singleFile": True, "reportName": name, "groupBy": ["epic", "story"]}}
        },
    }
    if history is not None:
        _forget_run(history, dirs)
        config["historyPath"] = str(history)
        config["historyLimit"] = HISTORY_LIMIT
    # An .mjs config: Allure 3 environment matchers are functions, which JSON cannot hold.
    envs = ""
    if environments:
        # One Allure environment per instance, matched by the `environment` label of each result.
        envs = (
            ", environments: {"
            + ", ".join(
                f"{json.dumps(env)}: {{name: {json.dumps(title)}, matcher: ({{labels}}) => "
                f"labels.some((l) => l.name === 'environment' && l.value === {json.dumps(env)})}}"
                for env, title in environments.items()
            )
            + "}"
        )
    config_path = output.parent / f".allurerc-{output.name}.mjs"
    config_path.write_text(f"export default {{...{json.dumps(config)}{envs}}};\n", encoding="utf-8")
    categories = json.dumps(_cause_categories(dirs) + json.loads(CATEGORIES.read_text(encoding="utf-8")))
    for results_dir in dirs:
        (results_dir / "categories.json").write_text(categories, encoding="utf-8")
    try:
        proc = subprocess.run(
            [
                *command,
                "generate",
                *map(str, dirs),
                "-o",
                str(output),
                "--config",
                str(config_path),
            ],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            cwd=output.parent,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"Allure ({source}) could not render ({type(exc).__name__}); render later with: {later}"
    finally:
        config_path.unlink(missing_ok=True)
    index = output / "index.html"
    if proc.returncode != 0 or not index.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return f"Allure ({source}) failed ({' | '.join(tail)}); render later with: {later}"
    index.write_text(strip_analytics(index.read_text(encoding="utf-8")), encoding="utf-8")
    return None


def _forget_run(history: Path, dirs: list[Path]) -> None:
    """Drop from history.jsonl the line of the run these results are, if an earlier render wrote
    it: Allure appends the rendered run to the history, and `render` of an existing report would
    otherwise count the same run twice. A run is its cases' (fullName, start) pairs."""
    if not history.is_file():
        return
    current = set()
    for results_dir in dirs:
        for path in results_dir.glob("*-result.json"):
            try:
                result = json.loads(path.read_text(encoding="utf-8"))
                current.add((str(result.get("fullName")), int(result["start"])))
            except (OSError, ValueError, KeyError, TypeError):
                continue
    if not current:
        return
    kept, dropped = [], False
    for line in history.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
            seen = {(str(r.get("fullName")), int(r["start"])) for r in entry["testResults"].values()}
        except (ValueError, KeyError, TypeError, AttributeError):
            kept.append(line)  # not ours to judge: Allure's own line format may change
            continue
        if seen == current:
            dropped = True
        else:
            kept.append(line)
    if dropped:
        history.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")


class RenderError(Exception):
    """`render` cannot start: a report dir without allure-results (the message says which)."""


def render_report_dirs(report_dirs: list[Path], output: Path | None = None) -> tuple[Path, str | None]:
    """`openedx-oauth-conformance render`: what `run` renders, from report dirs of earlier runs.

    One dir gives its html/ (with the Allure history kept in the dir, as `run` does); several give
    one combined report with an environment per profile, as `run --profile a --profile b` does.
    Returns the output folder and None, or the reason it could not render."""
    names: dict[str, str] = {}
    for report_dir in report_dirs:
        if not (report_dir / "allure-results").is_dir():
            raise RenderError(f"{report_dir} has no allure-results/ (give a run's --report-dir)")
        summary = report_dir / "summary.json"
        profile = json.loads(summary.read_text(encoding="utf-8"))["profile"] if summary.is_file() else None
        names[profile or report_dir.resolve().name] = report_dir.name
    output = output if output is not None else _default_output(report_dirs)
    results = [d / "allure-results" for d in report_dirs]
    if len(report_dirs) == 1:
        name = next(iter(names))
        problem = render_html(
            results[0],
            output,
            name=f"Open edX OAuth conformance: {name}",
            history=report_dirs[0] / "history.jsonl",
        )
    else:
        problem = render_html(
            results,
            output,
            name="Open edX OAuth conformance: " + " vs ".join(names),
            environments={n: n for n in names},
        )
    return output, problem
