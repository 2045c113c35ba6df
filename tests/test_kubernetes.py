"""The Kubernetes manifests under examples/kubernetes/: valid against the Kubernetes API JSON schema
(strict: no unknown field), offline (kubernetes-validate ships the schemas), and consistent: the
suite commands parse with the real command line, every profile in a ConfigMap loads, the Indexed
Job runs one pod per profile, the CronJob runs hourly and gently, and a compare follows the fleet."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from conformance._lib.profile import profile_from_data
from tests.test_docs import cli_commands, parse_cli

ROOT = Path(__file__).resolve().parents[1]
MANIFESTS = sorted((ROOT / "examples" / "kubernetes").glob("*.yaml"))
# The oldest release with backoffLimitPerIndex on by default (beta), and the newest schemas shipped.
VERSIONS = ["1.29.0", "1.37.0"]
VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def of_kind(kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [
        d
        for path in MANIFESTS
        for d in documents(path)
        if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]


def pod_spec(resource: dict[str, Any]) -> dict[str, Any]:
    spec = resource["spec"]
    if resource["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def scripts(resource: dict[str, Any]) -> list[str]:
    pod = pod_spec(resource)
    return [
        "\n".join(c.get("args", []))
        for c in [*pod.get("initContainers", []), *pod["containers"]]
        if c.get("command") == ["/bin/sh", "-c"]
    ]


def env_value(resource: dict[str, Any], name: str) -> str:
    for container in pod_spec(resource)["containers"]:
        for var in container.get("env", []):
            if var["name"] == name:
                return str(var["value"])
    raise AssertionError(f"{resource['metadata']['name']}: no {name}")


def test_manifests_exist():
    kinds = {d["kind"] for path in MANIFESTS for d in documents(path)}
    assert {"CronJob", "Job", "ConfigMap", "PersistentVolumeClaim"} <= kinds


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_valid_against_the_kubernetes_schema(path, version):
    for document in documents(path):
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            raise AssertionError(
                f"{path.name}: {document['kind']}/{document['metadata']['name']}: {exc.message}"
            ) from None


def test_validation_catches_a_mistake():
    """The validator is really consulted: an unknown field and a wrong type both fail."""
    job = of_kind("Job", "oauth-conformance-fleet")[0]
    broken = yaml.safe_load(yaml.safe_dump(job))
    broken["spec"]["completionMod"] = "Indexed"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)
    broken = yaml.safe_load(yaml.safe_dump(job))
    broken["spec"]["parallelism"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


def test_suite_commands_parse_with_the_real_cli():
    found = 0
    for kind in ("CronJob", "Job"):
        for resource in of_kind(kind):
            for script in scripts(resource):
                for argv in cli_commands(script):
                    parse_cli(argv)
                    found += 1
    assert found >= 3  # the CronJob's run, the fleet's run, the compare


def profiles_in(configmap: dict[str, Any]) -> dict[str, dict[str, Any]]:
    import tomllib

    return {key: tomllib.loads(text) for key, text in configmap["data"].items() if key.endswith(".toml")}


@pytest.mark.parametrize("configmap", of_kind("ConfigMap"), ids=lambda c: c["metadata"]["name"])
def test_configmap_profiles_load(configmap):
    for key, data in profiles_in(configmap).items():
        text = configmap["data"][key]
        env = {name: f"k8s-placeholder-{name.lower()}-0123456789" for name in VAR.findall(text)}
        profile = profile_from_data(data, env, source=f"{configmap['metadata']['name']}:{key}")
        assert f"{profile.name}.toml" == key


def mounted_configmap(resource: dict[str, Any], mount_path: str) -> str:
    pod = pod_spec(resource)
    container = pod["containers"][0]
    volume = next(m["name"] for m in container["volumeMounts"] if m["mountPath"] == mount_path)
    return next(v["configMap"]["name"] for v in pod["volumes"] if v["name"] == volume)


def test_cronjob_runs_one_instance_hourly_and_gently():
    (cron,) = of_kind("CronJob")
    minute, hour, *rest = cron["spec"]["schedule"].split()
    assert minute.isdigit() and hour == "*" and rest == ["*", "*", "*"], "hourly"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert cron["spec"]["jobTemplate"]["spec"]["backoffLimit"] == 0
    (script,) = scripts(cron)
    (argv,) = [a for a in cli_commands(script) if a[:1] == ["run"]]
    args = parse_cli(argv)
    assert args.metrics, "the scheduled run writes metrics"
    configmap = of_kind("ConfigMap", mounted_configmap(cron, "/etc/oauth-conformance"))[0]
    assert [Path(p).name for p in args.profile] == list(profiles_in(configmap))


def test_indexed_job_runs_one_pod_per_profile_then_compare():
    fleet = of_kind("Job", "oauth-conformance-fleet")[0]
    spec = fleet["spec"]
    names = env_value(fleet, "PROFILES").split()
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"] == len(names)
    assert spec["backoffLimitPerIndex"] == 0, "one failing instance neither retries nor stops the others"
    configmap = of_kind("ConfigMap", mounted_configmap(fleet, "/etc/oauth-conformance"))[0]
    assert sorted(f"{n}.toml" for n in names) == sorted(profiles_in(configmap))
    (script,) = scripts(fleet)
    assert "JOB_COMPLETION_INDEX" in script and "exit-code" in script
    compare = of_kind("Job", "oauth-conformance-compare")[0]
    assert env_value(compare, "PROFILES").split() == names
    wait, compare_script = scripts(compare)
    assert "exit-code" in wait
    assert [a[0] for a in cli_commands(compare_script)] == ["compare"]
    claims = {
        v["persistentVolumeClaim"]["claimName"]
        for job in (fleet, compare)
        for v in pod_spec(job)["volumes"]
        if "persistentVolumeClaim" in v
    }
    assert len(claims) == 1, "the fleet and the compare share one reports volume"
    (pvc,) = of_kind("PersistentVolumeClaim", claims.pop())
    assert "ReadWriteMany" in pvc["spec"]["accessModes"]


def test_no_secret_in_the_manifests():
    for path in MANIFESTS:
        for document in documents(path):
            assert document["kind"] != "Secret", (
                f"{path.name}: secrets are created with kubectl, not kept here"
            )
