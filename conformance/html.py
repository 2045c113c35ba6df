"""The HTML report: Allure 3 (the npm package `allure`) renders allure-results into one file."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

__all__ = ["CATEGORIES", "HISTORY_LIMIT", "allure_binary", "render_html", "strip_analytics"]

ROOT = Path(__file__).resolve().parents[1]
CATEGORIES = Path(__file__).resolve().parent / "allure-categories.json"
# Runs kept in a report dir's history.jsonl (the report's trends); Allure drops the oldest beyond it.
HISTORY_LIMIT = 30
_ANALYTICS = (
    re.compile(r"<script[^>]*googletagmanager[^>]*>\s*</script>\s*", re.I),
    re.compile(r"<script[^>]*>(?:(?!</script>).)*?\bgtag\((?:(?!</script>).)*?</script>\s*", re.I | re.S),
)


def allure_binary() -> Path | None:
    """The project's pinned Allure 3 (package.json), or None when Node or the package is missing."""
    if shutil.which("node") is None:
        return None
    binary = ROOT / "node_modules" / ".bin" / "allure"
    return binary if binary.exists() else None


def strip_analytics(html: str) -> str:
    for pattern in _ANALYTICS:
        html = pattern.sub("", html)
    return html


def allure_categories() -> list[dict[str, object]]:
    """categories.json (Allure 2 shape) turned into Allure 3 category rules."""
    rules = []
    for entry in json.loads(CATEGORIES.read_text(encoding="utf-8")):
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
    binary = allure_binary()
    # Absolute paths: Allure runs in the output's parent folder, and report dirs may be relative.
    dirs = [p.resolve() for p in ([results] if isinstance(results, Path) else results)]
    output = output.resolve()
    history = history.resolve() if history is not None else None
    later = f"npx allure generate {' '.join(map(str, dirs))} -o {output}"
    if binary is None:
        return f"Node or the allure package is missing (run bin/setup-env); render later with: {later}"
    output.mkdir(parents=True, exist_ok=True)
    config: dict[str, object] = {
        "name": name,
        "output": str(output),
        "categories": {"rules": allure_categories()},
        "plugins": {
            "awesome": {"options": {"singleFile": True, "reportName": name, "groupBy": ["epic", "story"]}}
        },
    }
    if history is not None:
        config["historyPath"] = str(history)
        config["historyLimit"] = HISTORY_LIMIT
    # An .mjs config: Allure 3 environment matchers are functions, which JSON cannot hold.
    envs = ""
    if environments:
        # One Allure environment per instance, matched by the `environment` label of each result.
        envs = ", environments: {" + ", ".join(
            f"{json.dumps(env)}: {{name: {json.dumps(title)}, matcher: ({{labels}}) => "
            f"labels.some((l) => l.name === 'environment' && l.value === {json.dumps(env)})}}"
            for env, title in environments.items()
        ) + "}"
    config_path = output.parent / f".allurerc-{output.name}.mjs"
    config_path.write_text(f"export default {{...{json.dumps(config)}{envs}}};\n", encoding="utf-8")
    for results_dir in dirs:
        shutil.copy(CATEGORIES, results_dir / "categories.json")
    try:
        proc = subprocess.run(
            [
                str(binary),
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
        return f"Allure could not render ({type(exc).__name__}); render later with: {later}"
    finally:
        config_path.unlink(missing_ok=True)
    index = output / "index.html"
    if proc.returncode != 0 or not index.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return f"Allure failed ({' | '.join(tail)}); render later with: {later}"
    index.write_text(strip_analytics(index.read_text(encoding="utf-8")), encoding="utf-8")
    return None
