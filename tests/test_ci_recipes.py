"""The CI recipes under examples/ stay runnable: every suite command they run parses with the real
command line, every profile they run exists, validates and gets its ${VAR}s from the recipe, every
report is published even when the run fails, and fleets end in one `compare`.

The recipes are read as data (PyYAML): GitHub Actions workflows (`jobs.*.steps[*].run`, matrices,
`${{ ... }}` expressions, `env`) and GitLab CI files (`script`, `extends`, `parallel: matrix`,
`variables`). CI variables are replaced by their values where the recipe defines them, by each
matrix value in turn, and by a placeholder otherwise."""

from __future__ import annotations

import itertools
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from conformance._lib.profile import load_profile
from conformance._lib.waivers import check_known, load_waivers, waivers_path
from conformance.selftest.mutation import merge_overlay
from tests.test_docs import CHECKS, cli_commands, parse_cli, unknown_selectors

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def is_recipe(path: Path) -> bool:
    """A CI pipeline file: not a Kubernetes manifest, not a GitLab template other files include."""
    if path.relative_to(EXAMPLES).parts[0] == "kubernetes":
        return False
    return not (path.name.endswith(".gitlab-ci.yml") and path.name != ".gitlab-ci.yml")


RECIPES = sorted(
    p for p in EXAMPLES.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml") and is_recipe(p)
)
EXAMPLE_PROFILES = sorted(
    p for p in (EXAMPLES / "profiles").glob("*.toml") if not p.name.endswith(".waivers.toml")
)
EXAMPLE_WAIVERS = sorted((EXAMPLES / "profiles").glob("*.waivers.toml"))

PLACEHOLDER = "ci-placeholder"
PROFILE_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
GITHUB_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
SHELL_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
GITLAB_KEYWORDS = {
    "stages", "variables", "default", "include", "workflow", "image", "services", "cache",
    "before_script", "after_script", "types",
}  # fmt: skip


@dataclass
class Job:
    recipe: Path
    name: str
    flavour: str  # "github" or "gitlab"
    definition: dict[str, Any]
    matrix: dict[str, str] = field(default_factory=dict)


@dataclass
class Invocation:
    """One suite command a recipe runs, with what the CI gives it."""

    job: Job
    argv: list[str]
    env: set[str]  # variables the recipe itself sets for the command (GitHub)
    published: list[str]  # paths the job publishes as artifacts even when it fails

    @property
    def id(self) -> str:
        matrix = ",".join(f"{v}" for v in self.job.matrix.values())
        where = f"{self.job.recipe.relative_to(EXAMPLES)}:{self.job.name}" + (f"[{matrix}]" if matrix else "")
        return f"{where}: {shlex.join(self.argv[:1])}"


def load_recipe(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path}: not a YAML mapping"
    # GitLab's `include: local:` (a path from the repository root): the included file first, the
    # including file's keys over it.
    includes = data.pop("include", None) or []
    for entry in [includes] if isinstance(includes, dict | str) else includes:
        local = entry.get("local") if isinstance(entry, dict) else entry
        if isinstance(local, str):
            included = ROOT / local.lstrip("/")
            assert included.is_file(), f"{path}: includes {local}, which does not exist"
            data = merge_overlay(load_recipe(included), data)
    return data


def flavour(data: dict[str, Any]) -> str:
    return "github" if isinstance(data.get("jobs"), dict) else "gitlab"


# GitHub Actions ---------------------------------------------------------------------------------------


def github_matrix(job: dict[str, Any]) -> list[dict[str, str]]:
    matrix = (job.get("strategy") or {}).get("matrix")
    if not isinstance(matrix, dict):
        return [{}]
    axes = {k: v for k, v in matrix.items() if k not in ("include", "exclude") and isinstance(v, list)}
    combos = [dict(zip(axes, values, strict=True)) for values in itertools.product(*axes.values())]
    combos += [dict(entry) for entry in matrix.get("include", []) if isinstance(entry, dict)]
    return [{k: str(v) for k, v in c.items()} for c in combos] or [{}]


def github_expand(text: str, matrix: dict[str, str], env: dict[str, str]) -> str:
    def expression(m: re.Match[str]) -> str:
        expr = m.group(1)
        if expr.startswith("matrix."):
            return matrix.get(expr.removeprefix("matrix."), PLACEHOLDER)
        if expr.startswith("env.") and expr.removeprefix("env.") in env:
            return env[expr.removeprefix("env.")]
        return PLACEHOLDER

    return GITHUB_EXPR.sub(expression, text)


def shell_expand(text: str, values: dict[str, str]) -> str:
    """$X and ${X} for the variables the recipe defines; the rest stays for the shell."""

    def variable(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        return values.get(name, m.group(0))

    for _ in range(3):  # variables defined in terms of others
        text = SHELL_VAR.sub(variable, text)
    return text


def uploads_always(step: dict[str, Any]) -> bool:
    return str(step.get("uses", "")).startswith("actions/upload-artifact@") and "always()" in str(
        step.get("if", "")
    )


def github_invocations(path: Path, data: dict[str, Any]) -> Iterator[Invocation]:
    workflow_env = {k: str(v) for k, v in (data.get("env") or {}).items()}
    for name, definition in data["jobs"].items():
        for matrix in github_matrix(definition):
            job = Job(path, name, "github", definition, matrix)
            env = {**workflow_env, **{k: str(v) for k, v in (definition.get("env") or {}).items()}}
            env = {k: github_expand(v, matrix, env) for k, v in env.items()}
            steps = definition.get("steps") or []
            for index, step in enumerate(steps):
                if "run" not in step:
                    continue
                step_env = {**env, **{k: str(v) for k, v in (step.get("env") or {}).items()}}
                plain = {k: v for k, v in step_env.items() if "${{" not in v and PLACEHOLDER not in v}
                script = shell_expand(github_expand(str(step["run"]), matrix, step_env), plain)
                published = [
                    shell_expand(github_expand(str(later["with"]["path"]), matrix, env), plain)
                    for later in steps[index + 1 :]
                    if uploads_always(later) and "path" in (later.get("with") or {})
                ]
                for argv in cli_commands(script):
                    yield Invocation(job, argv, set(step_env), published)


# GitLab CI --------------------------------------------------------------------------------------------
# GitLab's `extends` and `include` merge as a profile overlay does (`merge_overlay`): mappings key by
# key, anything else replaced.
def gitlab_job(data: dict[str, Any], name: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    assert name not in seen, f"extends loop: {seen}"
    definition = data[name]
    parents = definition.get("extends", [])
    merged: dict[str, Any] = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        merged = merge_overlay(merged, gitlab_job(data, parent, (*seen, name)))
    return merge_overlay(merged, {k: v for k, v in definition.items() if k != "extends"})


def gitlab_matrix(job: dict[str, Any]) -> list[dict[str, str]]:
    parallel = job.get("parallel")
    if not isinstance(parallel, dict):
        return [{}]
    combos = []
    for entry in parallel.get("matrix", []):
        axes = {k: v if isinstance(v, list) else [v] for k, v in entry.items()}
        combos += [dict(zip(axes, map(str, vals), strict=True)) for vals in itertools.product(*axes.values())]
    return combos or [{}]


def gitlab_variables(value: Any) -> dict[str, str]:
    return {k: str(v.get("value", "") if isinstance(v, dict) else v) for k, v in (value or {}).items()}


def flatten(lines: Any) -> list[str]:
    if lines is None:
        return []
    if isinstance(lines, str):
        return [lines]
    return [line for item in lines for line in flatten(item)]


def gitlab_jobs(path: Path, data: dict[str, Any]) -> Iterator[Job]:
    for name, definition in data.items():
        if name in GITLAB_KEYWORDS or name.startswith(".") or not isinstance(definition, dict):
            continue
        resolved = gitlab_job(data, name)
        for matrix in gitlab_matrix(resolved):
            yield Job(path, name, "gitlab", resolved, matrix)


def gitlab_values(data: dict[str, Any], job: Job) -> dict[str, str]:
    return {
        **gitlab_variables(data.get("variables")),
        **gitlab_variables(job.definition.get("variables")),
        **job.matrix,
    }


def gitlab_invocations(path: Path, data: dict[str, Any]) -> Iterator[Invocation]:
    for job in gitlab_jobs(path, data):
        values = gitlab_values(data, job)
        definition = job.definition
        script = "\n".join(
            line
            for key in ("before_script", "script", "after_script")
            for line in flatten(definition.get(key, data.get(key)))
        )
        artifacts = definition.get("artifacts") or {}
        published = (
            [shell_expand(str(p), values) for p in artifacts.get("paths", [])]
            if artifacts.get("when") == "always"
            else []
        )
        for argv in cli_commands(shell_expand(script, values)):
            yield Invocation(job, argv, set(values), published)


# All invocations ------------------------------------------------------------------------------------


def invocations(path: Path) -> list[Invocation]:
    data = load_recipe(path)
    found = github_invocations(path, data) if flavour(data) == "github" else gitlab_invocations(path, data)
    return list(found)


INVOCATIONS = [inv for path in RECIPES for inv in invocations(path)]
RUNS = [inv for inv in INVOCATIONS if inv.argv[:1] == ["run"]]


def profile_placeholders(path: Path) -> dict[str, str]:
    """A value for every ${VAR} of a profile: long and distinctive, since loading registers secrets."""
    names = PROFILE_VAR.findall(path.read_text(encoding="utf-8"))
    return {name: f"{PLACEHOLDER}-{name.lower()}-0123456789" for name in names}


def profiles_of(inv: Invocation) -> list[Path]:
    return [ROOT / p for p in parse_cli(inv.argv).profile or []]


# Tests ----------------------------------------------------------------------------------------------


def test_recipes_for_both_ci_systems_exist():
    flavours = {flavour(load_recipe(p)) for p in RECIPES}
    assert flavours == {"github", "gitlab"}, f"recipes found: {[str(p) for p in RECIPES]}"
    assert EXAMPLE_PROFILES, "examples/profiles/ holds the profiles the recipes run"


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_every_recipe_runs_the_suite(recipe):
    found = [inv for inv in RUNS if inv.job.recipe == recipe]
    assert found, f"{recipe}: no `openedx-oauth-conformance run` in any run:/script: step"


@pytest.mark.parametrize("inv", INVOCATIONS, ids=lambda inv: inv.id)
def test_command_parses_with_the_real_cli(inv):
    args = parse_cli(inv.argv)
    assert not unknown_selectors(args), f"{shlex.join(inv.argv)}: selects no check"


@pytest.mark.parametrize("inv", RUNS, ids=lambda inv: inv.id)
def test_run_names_profiles_that_exist_and_load(inv):
    paths = profiles_of(inv)
    assert paths, f"{shlex.join(inv.argv)}: a CI run names its profile (without one it runs the reference)"
    for path in paths:
        assert path.is_file(), f"{shlex.join(inv.argv)}: no profile {path.relative_to(ROOT)}"
        profile = load_profile(path, env=profile_placeholders(path))
        assert not profile.warnings, profile.warnings
        assert profile.base_url.startswith("https://"), f"{path.name}: a CI target is served over https"
        check_known(load_waivers(profile), CHECKS, str(waivers_path(profile)))


@pytest.mark.parametrize("inv", RUNS, ids=lambda inv: inv.id)
def test_profile_secrets_come_from_the_ci(inv):
    text = inv.job.recipe.read_text(encoding="utf-8")
    for path in profiles_of(inv):
        for name in profile_placeholders(path):
            if inv.job.flavour == "github":
                # The step's env maps each variable from the secret store (secrets.* or vars.*).
                assert name in inv.env, f"{path.name} needs ${{{name}}}: the step's env does not set it"
            else:
                # GitLab takes them from the project's CI/CD variables: the recipe must list them.
                assert re.search(rf"\b{name}\b", text), f"{path.name} needs {name}: the recipe never names it"


@pytest.mark.parametrize("inv", RUNS, ids=lambda inv: inv.id)
def test_report_is_published_even_when_the_run_fails(inv):
    args = parse_cli(inv.argv)
    assert args.report_dir, f"{shlex.join(inv.argv)}: name the report dir, so that the job can publish it"
    report = PurePosixPath(args.report_dir.rstrip("/"))
    published = [PurePosixPath(p.rstrip("/")) for p in inv.published]
    assert any(report == p or p in report.parents for p in published), (
        f"{report} is not published by an always-run artifact step (found: {inv.published})"
    )


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_fleet_runs_in_parallel_then_compares(ci):
    fleets = {}
    for inv in RUNS:
        if inv.job.flavour == ci and inv.job.matrix:
            fleets.setdefault((inv.job.recipe, inv.job.name), set()).update(map(str, profiles_of(inv)))
    fleets = {key: profiles for key, profiles in fleets.items() if len(profiles) > 1}
    assert fleets, f"{ci}: no matrix job running several profiles"
    compares = [inv for inv in INVOCATIONS if inv.job.flavour == ci and inv.argv[:1] == ["compare"]]
    assert compares, f"{ci}: no `openedx-oauth-conformance compare` job"
    for inv in compares:
        needs = inv.job.definition.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        needed = {n if isinstance(n, str) else n.get("job") for n in needs}
        assert any(job in needed for recipe, job in fleets if recipe == inv.job.recipe), (
            f"{inv.id}: compare must wait for the matrix job ({needed})"
        )
        if ci == "github":
            runs_always = "always()" in str(inv.job.definition.get("if", ""))
        else:
            rules = inv.job.definition.get("rules") or []
            runs_always = inv.job.definition.get("when") == "always" or all(
                r.get("when") == "always" for r in rules if r.get("when") != "never"
            )
        assert runs_always, f"{inv.id}: compare must run even when a matrix job failed"


@pytest.mark.parametrize("path", EXAMPLE_PROFILES, ids=lambda p: p.name)
def test_example_profile_is_valid_and_used(path):
    text = path.read_text(encoding="utf-8")
    profile = load_profile(path, env=profile_placeholders(path))
    assert profile.base_url.startswith("https://")
    assert all(s["base_url"].startswith("https://") for s in profile.data.get("services", []))
    assert not profile.warnings, f"{path.name}: secrets only as ${{VAR}}: {profile.warnings}"
    assert re.search(r'^\s*secret\s*=\s*"\$\{[A-Z_]+\}"', text, re.M)
    used = {p for inv in RUNS for p in profiles_of(inv)}
    assert path in used, f"{path.name}: no recipe runs it"


@pytest.mark.parametrize("path", EXAMPLE_WAIVERS, ids=lambda p: p.name)
def test_example_waivers_belong_to_a_profile_and_name_real_checks(path):
    owner = path.with_name(path.name.removesuffix(".waivers.toml") + ".toml")
    assert owner.is_file(), f"{path.name}: no profile {owner.name} beside it"
    profile = load_profile(owner, env=profile_placeholders(owner))
    assert waivers_path(profile) == path
    waivers = load_waivers(profile)
    assert waivers
    check_known(waivers, CHECKS, str(path))


# The reader itself: it must see what CI would run.


def test_github_matrix_and_expressions_are_expanded(tmp_path):
    recipe = tmp_path / "wf.yml"
    recipe.write_text(
        "env: {DIR: reports}\n"
        "jobs:\n"
        "  c:\n"
        "    strategy: {matrix: {profile: [a, b]}}\n"
        "    steps:\n"
        "      - run: openedx-oauth-conformance run --profile p/${{ matrix.profile }}.toml"
        " --report-dir $DIR/${{ matrix.profile }} --no-such-option\n"
        "        env: {X: '${{ secrets.X }}'}\n"
        "      - uses: actions/upload-artifact@v4\n"
        "        if: always()\n"
        "        with: {path: '${{ env.DIR }}/${{ matrix.profile }}/'}\n"
    )
    found = invocations(recipe)
    assert [inv.argv[2] for inv in found] == ["p/a.toml", "p/b.toml"]
    assert found[0].argv[4] == "reports/a" and found[0].published == ["reports/a/"]
    assert found[0].env >= {"DIR", "X"}
    with pytest.raises(AssertionError, match="--no-such-option"):
        parse_cli(found[0].argv)


def test_gitlab_extends_matrix_and_variables_are_expanded(tmp_path):
    recipe = tmp_path / ".gitlab-ci.yml"
    recipe.write_text(
        "variables: {BASE: reports}\n"
        ".t:\n"
        "  script:\n"
        '    - openedx-oauth-conformance run --profile "p/$PROFILE.toml" --report-dir "$BASE/$PROFILE"\n'
        "  artifacts: {when: always, paths: ['$BASE/$PROFILE/']}\n"
        "j:\n"
        "  extends: .t\n"
        "  parallel: {matrix: [{PROFILE: [a, b]}]}\n"
    )
    found = invocations(recipe)
    assert [inv.argv for inv in found] == [
        ["run", "--profile", "p/a.toml", "--report-dir", "reports/a"],
        ["run", "--profile", "p/b.toml", "--report-dir", "reports/b"],
    ]
    assert found[1].published == ["reports/b/"]
