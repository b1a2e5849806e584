"""The Helm chart in deploy/helm/footfall, checked with the real helm binary (`make setup`
builds it) and without a cluster: it lints and renders with its default values and the
example for existing clusters, every rendered object is valid against the Kubernetes
schemas (kubernetes-validate, offline), the Prometheus Operator objects carry the committed
alert rules as they are (promtool checks them) and scrape the job those rules name, no
secret reaches a ConfigMap, every container runs as non-root, and a pod's footfall.toml,
completed from the Secret as its init container does, is what footfall reads."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import kubernetes_validate
import prometheus_client
import pytest
import yaml
from typer.main import get_command

from collector.app import create_app
from footfall.cli import app as cli_app
from footfall.local import prometheus_server
from footfall.local.processes import free_port, wait_until
from infra.config import CONFIG_FILE_ENV, Settings
from infra.health import http_ok
from schemas.topics import EVENTS
from tests.support.paths import DEPLOY, REPOSITORY

CHART = DEPLOY / "helm" / "footfall"
EXAMPLE = CHART / "examples" / "existing-clusters.yaml"
HELM = REPOSITORY / ".cache" / "go" / "bin" / "helm"
# The oldest Kubernetes the chart's API versions serve (policy/v1, autoscaling/v2 …) and
# the newest the schemas know.
KUBERNETES_VERSIONS = ("1.25.0", kubernetes_validate.latest_version())
CUSTOM_KINDS = {"ServiceMonitor", "PrometheusRule"}
# Item 1 of the scale-out work adds these settings; the chart already passes them.
KAFKA_CLIENT_SETTINGS = {
    "kafka_security_protocol", "kafka_sasl_mechanism", "kafka_sasl_username",
    "kafka_sasl_password", "kafka_ssl_cafile", "kafka_replication",
}
# Values that must stay in the Secret: each would be found if it leaked anywhere else.
GIVEN_SECRETS = {
    "secrets.hashKey": "hash-key-0123456789-leak",
    "secrets.sinkToken": "sink-token-0123456789-leak",
    "secrets.writeKeys.example": "write-key-example-leak",
    "clickhouse.url": "clickhouse://footfall_sink:ch-password-leak@ch:9000/default",
    "kafka.sasl.password": "kafka-password-leak",
}
WITH_SASL = ["kafka.sasl.mechanism=SCRAM-SHA-512", "kafka.sasl.username=footfall"]


def helm(*arguments: str) -> subprocess.CompletedProcess[str]:
    assert HELM.is_file(), f"{HELM} is missing: `make setup` builds it"
    return subprocess.run([str(HELM), *arguments], capture_output=True, text=True, timeout=120)


def render(*options: str) -> list[dict]:
    result = helm("template", "footfall", str(CHART), *options)
    assert result.returncode == 0, result.stderr
    return [document for document in yaml.safe_load_all(result.stdout) if document]


def render_refused(*options: str) -> str:
    result = helm("template", "footfall", str(CHART), *options)
    assert result.returncode != 0, "rendered although it should have been refused"
    return result.stderr


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [obj for obj in objects if obj["kind"] == kind]


def collector_deployment(objects: list[dict]) -> dict:
    [collector] = [d for d in of_kind(objects, "Deployment") if d["metadata"]["name"].endswith("-collector")]
    return collector


def pod_specs(objects: list[dict]) -> Iterator[tuple[str, dict]]:
    for obj in objects:
        if obj["kind"] in ("Deployment", "Job"):
            yield obj["metadata"]["name"], obj["spec"]["template"]["spec"]


def containers(pod: dict) -> list[dict]:
    return pod.get("initContainers", []) + pod["containers"]


def footfall_processes(pod: dict) -> list[dict]:
    """The pod's containers but the metrics relay."""
    return [container for container in pod["containers"] if container["name"] != "metrics"]


def environment(container: dict) -> dict[str, dict]:
    return {variable["name"]: variable for variable in container.get("env", [])}


@pytest.fixture(scope="module", params=["default values", "existing clusters"])
def rendered(request: pytest.FixtureRequest) -> list[dict]:
    return render() if request.param == "default values" else render("-f", str(EXAMPLE))


@pytest.mark.parametrize("options", [[], ["-f", str(EXAMPLE)]], ids=["default values", "existing clusters"])
def test_the_chart_lints(options: list[str]) -> None:
    result = helm("lint", "--strict", str(CHART), *options)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


def test_every_object_is_valid_kubernetes(rendered: list[dict]) -> None:
    kinds = {obj["kind"] for obj in rendered}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap", "Job"} <= kinds
    for obj in rendered:
        if obj["kind"] in CUSTOM_KINDS:
            continue
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{obj['kind']} {obj['metadata']['name']} on Kubernetes {version}: {exc.message} at {list(exc.path)}")


def test_a_misspelt_field_is_caught_by_the_validation() -> None:
    """The validation above refuses what Kubernetes would: a field that does not exist."""
    deployment = collector_deployment(render())
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {"path": "/readyz"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


def test_the_prometheus_rule_is_the_committed_alerts_file(tmp_path: Path) -> None:
    committed = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    [rule] = of_kind(render("-f", str(EXAMPLE)), "PrometheusRule")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["spec"] == committed
    rules_file = tmp_path / "rules.yml"
    rules_file.write_text(yaml.safe_dump(rule["spec"]))
    check = subprocess.run([prometheus_server.binary("promtool"), "check", "rules", str(rules_file)],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"SUCCESS: {sum(len(group['rules']) for group in committed['groups'])} rules found" in check.stdout


def test_each_part_is_scraped_as_the_job_the_alerts_name() -> None:
    objects = render("-f", str(EXAMPLE))
    alerts = (DEPLOY / "prometheus" / "alerts.yml").read_text()
    jobs = set()
    for monitor in of_kind(objects, "ServiceMonitor"):
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        [service] = [s for s in of_kind(objects, "Service") if monitor["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()]
        [endpoint] = monitor["spec"]["endpoints"]
        assert set(endpoint) <= {"port", "path", "interval", "relabelings"}
        assert endpoint["path"] == "/metrics"
        [port] = [port for port in service["spec"]["ports"] if port["name"] == endpoint["port"]]
        [deployment] = [d for d in of_kind(objects, "Deployment") if service["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()]
        served = {p["name"] for c in deployment["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
        assert port["targetPort"] in served, (monitor["metadata"]["name"], served)
        [relabel] = endpoint["relabelings"]
        assert relabel["action"] == "replace" and relabel["targetLabel"] == "job"
        jobs.add(relabel["replacement"])
    assert jobs == {prometheus_server.COLLECTOR_JOB, prometheus_server.PROCESSORS_JOB, prometheus_server.SINK_JOB}
    assert all(job.removeprefix("footfall-") in alerts for job in jobs)


def test_the_relay_serves_a_loopback_metrics_port_and_nothing_else(tmp_path: Path) -> None:
    metrics_server, _ = prometheus_client.start_http_server(0, "127.0.0.1")
    relay_port, missing_port = free_port(), free_port()
    [config] = [cm for cm in of_kind(render("-f", str(EXAMPLE)), "ConfigMap") if "metrics_relay.py" in cm["data"]]
    script = tmp_path / "metrics_relay.py"
    script.write_text(config["data"]["metrics_relay.py"])
    relays = [subprocess.Popen([sys.executable, str(script), str(relay_port), str(metrics_server.server_port)]),
              subprocess.Popen([sys.executable, str(script), str(missing_port), str(free_port())])]
    try:
        wait_until(lambda: http_ok(f"http://127.0.0.1:{relay_port}/metrics"), 30, "the relay answers")
        relayed = httpx.get(f"http://127.0.0.1:{relay_port}/metrics?x=1")
        assert relayed.status_code == 200 and "process_cpu_seconds_total" in relayed.text
        assert relayed.headers["content-type"].startswith("text/plain")
        for path in ("/", "/query", "/metrics/../query", "/metricsx"):
            assert httpx.get(f"http://127.0.0.1:{relay_port}{path}").status_code == 404, path
        assert httpx.post(f"http://127.0.0.1:{relay_port}/metrics").status_code == 501
        wait_until(lambda: port_answers(missing_port), 30, "the second relay listens")
        assert httpx.get(f"http://127.0.0.1:{missing_port}/metrics").status_code == 502
    finally:
        metrics_server.shutdown()
        for relay in relays:
            relay.terminate()
            relay.wait(timeout=30)


def port_answers(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/")
    except httpx.TransportError:
        return False
    return True


def test_the_monitoring_objects_are_off_unless_asked_for() -> None:
    assert not {obj["kind"] for obj in render()} & CUSTOM_KINDS


def test_the_dashboards_are_the_committed_ones_for_the_grafana_sidecar() -> None:
    [dashboards] = [cm for cm in of_kind(render(), "ConfigMap") if cm["metadata"]["name"].endswith("-dashboards")]
    assert dashboards["metadata"]["labels"]["grafana_dashboard"] == "1"
    committed = {path.name: json.loads(path.read_text()) for path in (DEPLOY / "grafana" / "dashboards").glob("*.json")}
    assert committed
    assert {name: json.loads(text) for name, text in dashboards["data"].items()} == committed


def test_the_processors_default_to_no_more_than_the_events_partitions() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["kafka"]["eventsPartitions"] == EVENTS.partitions
    [processors] = [d for d in of_kind(render(), "Deployment") if d["metadata"]["name"].endswith("-processors")]
    assert 1 <= processors["spec"]["replicas"] <= EVENTS.partitions
    assert render(f"--set=processors.replicas={EVENTS.partitions}")


def test_more_processors_than_partitions_are_refused() -> None:
    message = render_refused(f"--set=processors.replicas={EVENTS.partitions + 1}")
    assert f"processors.replicas is {EVENTS.partitions + 1}, more than the {EVENTS.partitions} partitions of footfall.events" in message


@pytest.mark.parametrize(("values", "refusal"), [
    (["config.sites[0].id=shop", "config.sites[0].write_key=wk"], "config.sites shop has a write_key"),
    (["config.sink_token=0123456789abcdef"], "config.sink_token is a secret"),
    (["config.sites=null"], "config.sites is empty"),
    (["config.sites[0].id=a b"], '"a b" is not a site id'),
    (["secrets.existingSecret=mine"], "clickhouse.url is set, but secrets.existingSecret mine holds it"),
    (["clickhouse.url="], "clickhouse.url is required"),
    (["secrets.hashKey=short"], "hash-key must be at least 16 characters"),
    (WITH_SASL[:1], "kafka.sasl.username is required"),
    (WITH_SASL, "kafka.sasl.password (or kafka.sasl.passwordSecret.name) is required"),
    ([f"sink.replicas={EVENTS.partitions + 1}"], f"sink.replicas is {EVENTS.partitions + 1}, more than the {EVENTS.partitions} partitions"),
    (["processors.replicas=six"], "at '/processors/replicas': got string, want integer"),
    (["clickhouse.url=http://clickhouse:8123"], "at '/clickhouse/url'"),
    (["kafka.bootstrapp=kafka:9092"], "additional properties 'bootstrapp' not allowed"),
    (["secrets.existingSecret=x: y"], "at '/secrets/existingSecret'"),
    (["config.limits.max_depth[1]=null"], "config cannot be written as footfall.toml"),
    (["secrets.writeKeys.shop=wk_shop"], "secrets.writeKeys names shop, which is not a site in config.sites"),
], ids=["write key in config", "token in config", "no site", "bad site id", "ignored value", "no clickhouse",
        "short key", "no sasl user", "no sasl password", "idle sinks", "not a number", "not clickhouse", "misspelt",
        "not a name", "not toml", "key of no site"])
def test_values_that_would_leak_or_break_are_refused(values: list[str], refusal: str) -> None:
    assert refusal in render_refused(*[f"--set={value}" for value in values])


def test_secrets_appear_only_in_the_secret() -> None:
    objects = render(*[f"--set={name}={value}" for name, value in GIVEN_SECRETS.items()], *[f"--set={o}" for o in WITH_SASL])
    [secret] = of_kind(objects, "Secret")
    assert "write-key.example" in secret["data"]
    for obj in objects:
        if obj is not secret:
            text = yaml.safe_dump(obj)
            leaked = [name for name, value in GIVEN_SECRETS.items() if value in text]
            assert not leaked, f"{obj['kind']} {obj['metadata']['name']} holds {leaked}"


def test_every_container_runs_as_non_root_on_a_read_only_root(rendered: list[dict]) -> None:
    pods = list(pod_specs(rendered))
    assert len(pods) == 4
    for name, pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        assert pod["automountServiceAccountToken"] is False, name
        for container in containers(pod):
            context = container["securityContext"]
            assert context.get("runAsUser", pod["securityContext"]["runAsUser"]) != 0, (name, container["name"])
            assert context.get("runAsNonRoot", True) is True, (name, container["name"])
            assert context["readOnlyRootFilesystem"] is True, (name, container["name"])
            assert context["allowPrivilegeEscalation"] is False, (name, container["name"])
            assert context["capabilities"]["drop"] == ["ALL"], (name, container["name"])


def test_what_a_process_writes_is_on_a_pod_volume(rendered: list[dict]) -> None:
    for name, pod in pod_specs(rendered):
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        for container in containers(pod):
            mounts = {mount["mountPath"]: mount for mount in container["volumeMounts"]}
            assert {mount["name"] for mount in mounts.values()} <= volumes.keys(), (name, container["name"])
            assert container["resources"]["requests"] and container["resources"]["limits"], (name, container["name"])
        for container in footfall_processes(pod):
            env = environment(container)
            mounts = {mount["mountPath"]: mount for mount in container["volumeMounts"]}
            state = mounts[env["FOOTFALL_STATE_DIR"]["value"]]
            assert "emptyDir" in volumes[state["name"]] and not state.get("readOnly"), name
            assert "emptyDir" in volumes[mounts["/tmp"]["name"]], name
            assert str(Path(env[CONFIG_FILE_ENV]["value"]).parent) in mounts, name


def test_every_setting_the_chart_passes_is_one_footfall_reads(rendered: list[dict]) -> None:
    for name, pod in pod_specs(rendered):
        for container in pod["containers"]:
            for variable in environment(container):
                setting = variable.removeprefix("FOOTFALL_").lower()
                assert variable == CONFIG_FILE_ENV or setting in Settings.model_fields or setting in KAFKA_CLIENT_SETTINGS, (name, variable)


def resolved_environment(container: dict, secret: dict) -> dict[str, str]:
    """The container's variables as Kubernetes sets them, those from the chart's Secret read from it."""
    values = {}
    for name, variable in environment(container).items():
        if "value" in variable:
            values[name] = variable["value"]
        else:
            reference = variable["valueFrom"]["secretKeyRef"]
            assert reference["name"] == secret["metadata"]["name"], (name, reference)
            values[name] = base64.b64decode(secret["data"][reference["key"]]).decode()
    return values


def test_each_process_reads_the_values_it_was_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    objects = render(*[f"--set={name}={value}" for name, value in GIVEN_SECRETS.items()], "--set=kafka.bootstrap=kafka.example:9092")
    [secret] = of_kind(objects, "Secret")
    assert completed_config(objects, {"example": GIVEN_SECRETS["secrets.writeKeys.example"]}, tmp_path).returncode == 0
    read = {}
    for name, pod in pod_specs(objects):
        [container] = pod["containers"]
        with monkeypatch.context() as patch:
            for variable, value in resolved_environment(container, secret).items():
                patch.setenv(variable, value)
            patch.setenv(CONFIG_FILE_ENV, str(tmp_path / "out.toml"))
            read[container["name"]] = Settings()
    assert read.keys() == {"collector", "processors", "sink", "migrate"}
    for settings in read.values():
        assert settings.kafka_bootstrap == "kafka.example:9092"
        assert settings.hash_key == GIVEN_SECRETS["secrets.hashKey"]
        assert settings.state_dir == Path("/var/lib/footfall")
        assert [(site.id, site.write_key) for site in settings.sites] == [("example", GIVEN_SECRETS["secrets.writeKeys.example"])]
    assert read["collector"].collector_host == "0.0.0.0"
    assert read["sink"].sink_token == GIVEN_SECRETS["secrets.sinkToken"]
    assert read["sink"].clickhouse_url == read["migrate"].clickhouse_url == GIVEN_SECRETS["clickhouse.url"]
    assert read["collector"].clickhouse_url is None and read["collector"].sink_token is None


def test_the_probes_ask_routes_the_collector_serves() -> None:
    [container] = collector_deployment(render())["spec"]["template"]["spec"]["containers"]
    routes = {route.path for route in create_app(Settings()).routes}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz" in routes
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz" in routes


def test_the_migrations_job_runs_a_command_footfall_has() -> None:
    [job] = of_kind(render(), "Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    [container] = job["spec"]["template"]["spec"]["containers"]
    program, command = container["command"]
    assert program == "footfall" and command in get_command(cli_app).commands


def completed_config(objects: list[dict], write_keys: dict[str, str], folder: Path,
                     other_keys: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A pod's footfall.toml as its init container writes it, from the rendered ConfigMap,
    the Secret's write keys (by site) and `other_keys` (by name) mounted as files."""
    [config] = [cm for cm in of_kind(objects, "ConfigMap") if "footfall.toml" in cm["data"]]
    (folder / "keys").mkdir()
    for site, key in write_keys.items():
        (folder / "keys" / f"write-key.{site}").write_text(key)
    for name, value in (other_keys or {}).items():
        (folder / "keys" / name).write_text(value)
    for name in ("footfall.toml", "render_config.py"):
        (folder / name).write_text(config["data"][name])
    command = [sys.executable, str(folder / "render_config.py"), str(folder / "footfall.toml"), str(folder / "keys"), str(folder / "out.toml")]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_a_pods_configuration_is_completed_with_the_write_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A key with what could end a TOML string and start a setting of its own.
    hostile = 'wk"\nsink_token = "0123456789abcdef-injected"\n\\u0041\x7f'
    result = completed_config(render("-f", str(EXAMPLE)), {"shop": hostile, "blog": "wk_blog"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.toml").stat().st_mode & 0o077 == 0
    monkeypatch.setenv(CONFIG_FILE_ENV, str(tmp_path / "out.toml"))
    settings = Settings()
    assert {site.id: site.write_key for site in settings.sites} == {"shop": hostile, "blog": "wk_blog"}
    assert settings.sink_token is None
    assert settings.rate_limits.trusted_proxies and settings.retention.events_days == 396


def test_a_missing_write_key_stops_the_pod_with_its_name(tmp_path: Path) -> None:
    result = completed_config(render("-f", str(EXAMPLE)), {"shop": "wk_shop"}, tmp_path)
    assert result.returncode == 1
    assert "the Secret has no key 'write-key.blog'" in result.stderr
    assert not (tmp_path / "out.toml").exists()


WEBHOOK_SECRETS = ["whsec-first-0123456789-leak", "whsec-second-0123456789-leak"]
WITH_WEBHOOKS = {
    "config": {"sites": [{
        "id": "example",
        "funnels": [{"name": "checkout", "window_s": 600, "steps": [{"type": "purchase"}]}],
        "webhooks": [
            {"url": "https://crm.example/hooks/footfall", "on": ["segment_entered", "funnel_completed"]},
            {"url": "https://other.example/hook", "on": ["funnel_completed"], "funnels": ["checkout"]},
        ],
    }]},
    "secrets": {"webhookSecrets": {"example": WEBHOOK_SECRETS}},
    "monitoring": {"serviceMonitor": {"enabled": True}},
}


def with_webhooks(folder: Path, **changes: object) -> list[str]:
    values = folder / "webhooks.yaml"
    values.write_text(yaml.safe_dump({**WITH_WEBHOOKS, **changes}))
    return ["-f", str(values)]


def test_the_webhook_deliverer_is_rendered_only_when_a_site_has_webhooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not [d for d in of_kind(render(), "Deployment") if d["metadata"]["name"].endswith("-webhooks")]
    objects = render(*with_webhooks(tmp_path))
    [deployment] = [d for d in of_kind(objects, "Deployment") if d["metadata"]["name"].endswith("-webhooks")]
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(deployment, version, strict=True)
    [deliverer] = footfall_processes(deployment["spec"]["template"]["spec"])
    assert deliverer["command"] == ["python", "-m", "webhooks"]
    settings = {name.removeprefix("FOOTFALL_").lower() for name in environment(deliverer) if name != CONFIG_FILE_ENV}
    assert {"webhook_metrics_port", "webhook_retry_s"} <= settings <= {*Settings.model_fields, *KAFKA_CLIENT_SETTINGS}
    monitors = {m["spec"]["endpoints"][0]["relabelings"][0]["replacement"] for m in of_kind(objects, "ServiceMonitor")}
    assert prometheus_server.WEBHOOKS_JOB in monitors
    # The secrets are in the Secret alone; a pod's completed footfall.toml holds them.
    [secret] = of_kind(objects, "Secret")
    for obj in objects:
        if obj is not secret:
            assert not any(value in yaml.safe_dump(obj) for value in WEBHOOK_SECRETS), obj["metadata"]["name"]
    keys = {f"webhook-secret.example.{i}": base64.b64decode(secret["data"][f"webhook-secret.example.{i}"]).decode() for i in range(2)}
    assert list(keys.values()) == WEBHOOK_SECRETS
    mounted = {item["key"] for volume in deployment["spec"]["template"]["spec"]["volumes"] if volume["name"] == "write-keys" for item in volume["secret"]["items"]}
    assert set(keys) <= mounted
    result = completed_config(objects, {"example": "wk_example"}, tmp_path, keys)
    assert result.returncode == 0, result.stderr
    monkeypatch.setenv(CONFIG_FILE_ENV, str(tmp_path / "out.toml"))
    [site] = Settings().sites
    assert [(hook.url, hook.secret) for hook in site.webhooks] == [
        ("https://crm.example/hooks/footfall", WEBHOOK_SECRETS[0]), ("https://other.example/hook", WEBHOOK_SECRETS[1])]


def test_webhook_values_that_would_leak_or_break_are_refused(tmp_path: Path) -> None:
    hooks = WITH_WEBHOOKS["config"]["sites"][0]["webhooks"]
    leaking = {"sites": [{**WITH_WEBHOOKS["config"]["sites"][0], "webhooks": [{**hooks[0], "secret": "whsec-in-config-0123"}, hooks[1]]}]}
    assert "webhooks[0] has a secret" in render_refused(*with_webhooks(tmp_path, config=leaking))
    missing = {"webhookSecrets": {"example": WEBHOOK_SECRETS[:1]}}
    assert "secrets.webhookSecrets.example[1] is required" in render_refused(*with_webhooks(tmp_path, secrets=missing))
    assert "secrets.webhookSecrets.example[0] is required" in render_refused(*with_webhooks(tmp_path, secrets={}))
    short = {"webhookSecrets": {"example": [WEBHOOK_SECRETS[0], "short"]}}
    assert "at '/secrets/webhookSecrets/example/1': minLength" in render_refused(*with_webhooks(tmp_path, secrets=short))
    extra = {"webhookSecrets": {"example": [*WEBHOOK_SECRETS, "whsec-third-0123456789"]}}
    assert "secrets.webhookSecrets.example has 3 secrets for the site's 2 webhooks" in render_refused(*with_webhooks(tmp_path, secrets=extra))
    stranger = {"webhookSecrets": {"example": WEBHOOK_SECRETS, "shop": ["whsec-shop-0123456789"]}}
    assert "secrets.webhookSecrets names shop" in render_refused(*with_webhooks(tmp_path, secrets=stranger))
    assert "webhooks.replicas is 7" in render_refused(*with_webhooks(tmp_path), f"--set=webhooks.replicas={EVENTS.partitions + 1}")
