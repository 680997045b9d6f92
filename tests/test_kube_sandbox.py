"""The Kubernetes sandbox, driven by the real kubernetes client over HTTP on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import threading

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from tests.kube_support import api, eventually, kube_admin

NS = "team-a"


def _ns(core: client.CoreV1Api, name: str = NS, labels: dict[str, str] | None = None) -> None:
    core.create_namespace({"metadata": {"name": name, "labels": labels or {}}})


def _deployment(name: str = "web", image: str = "app:1", replicas: int = 1) -> dict:
    labels = {"app": name}
    return {
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": name, "image": image}]}},
        },
    }


def _error(exc: pytest.ExceptionInfo[ApiException]) -> dict:
    return json.loads(exc.value.body)


def test_discovery_serves_the_groups_and_resources_the_client_asks_for(kube):
    with api(kube) as client_:
        assert client.VersionApi(client_).get_code().git_version.startswith("v1.32")
        groups = {group.name for group in client.ApisApi(client_).get_api_versions().groups}
        assert {"apps", "networking.k8s.io"} <= groups
        core = {r.name for r in client.CoreV1Api(client_).get_api_resources().resources}
        assert {"namespaces", "pods", "pods/log", "services", "secrets", "configmaps", "events", "resourcequotas",
                "limitranges"} <= core
        apps = client.AppsV1Api(client_).get_api_resources().resources
        assert {"deployments", "replicasets"} <= {r.name for r in apps}
        networking = client.NetworkingV1Api(client_).get_api_resources().resources
        assert {"ingresses", "networkpolicies"} <= {r.name for r in networking}


def test_create_get_replace_delete_and_status_errors(kube):
    with api(kube) as client_:
        core = client.CoreV1Api(client_)
        _ns(core)
        made = core.create_namespaced_config_map(NS, {"metadata": {"name": "settings"}, "data": {"a": "1"}})
        assert made.metadata.uid and made.metadata.resource_version
        with pytest.raises(ApiException) as exists:
            core.create_namespaced_config_map(NS, {"metadata": {"name": "settings"}})
        assert exists.value.status == 409 and _error(exists)["reason"] == "AlreadyExists"
        made.data = {"a": "2"}
        replaced = core.replace_namespaced_config_map("settings", NS, made)
        assert replaced.data == {"a": "2"}
        assert int(replaced.metadata.resource_version) > int(made.metadata.resource_version)
        made.data = {"a": "3"}  # still carries the old resourceVersion
        with pytest.raises(ApiException) as stale:
            core.replace_namespaced_config_map("settings", NS, made)
        assert stale.value.status == 409 and _error(stale)["reason"] == "Conflict"
        core.delete_namespaced_config_map("settings", NS)
        with pytest.raises(ApiException) as gone:
            core.read_namespaced_config_map("settings", NS)
        assert gone.value.status == 404
        assert _error(gone)["message"] == 'configmaps "settings" not found'
        with pytest.raises(ApiException) as no_namespace:
            core.create_namespaced_config_map("nowhere", {"metadata": {"name": "x"}})
        assert no_namespace.value.status == 404


def test_invalid_objects_are_422_with_causes(kube):
    with api(kube) as client_:
        core, apps = client.CoreV1Api(client_), client.AppsV1Api(client_)
        with pytest.raises(ApiException) as bad_name:
            core.create_namespace({"metadata": {"name": "Not_Valid"}})
        body = _error(bad_name)
        assert bad_name.value.status == 422 and body["reason"] == "Invalid"
        assert body["details"]["causes"][0]["field"] == "metadata.name"
        _ns(core)
        broken = _deployment()
        del broken["spec"]["template"]["spec"]["containers"][0]["image"]
        with pytest.raises(ApiException) as missing:
            apps.create_namespaced_deployment(NS, broken)
        assert {c["field"] for c in _error(missing)["details"]["causes"]} == {"spec.template.spec.containers[0].image"}


def test_list_pages_with_limit_and_continue_and_old_tokens_expire(kube):
    with api(kube) as client_:
        core = client.CoreV1Api(client_)
        _ns(core)
        for index in range(7):
            core.create_namespaced_secret(NS, {"metadata": {"name": f"s{index}", "labels": {"n": str(index % 2)}}})
        first = core.list_namespaced_secret(NS, limit=3)
        assert [s.metadata.name for s in first.items] == ["s0", "s1", "s2"]
        assert first.metadata._continue and first.metadata.remaining_item_count == 4
        second = core.list_namespaced_secret(NS, limit=3, _continue=first.metadata._continue)
        assert [s.metadata.name for s in second.items] == ["s3", "s4", "s5"]
        odd = core.list_namespaced_secret(NS, label_selector="n=1")
        assert [s.metadata.name for s in odd.items] == ["s1", "s3", "s5"]
        assert len(core.list_namespaced_secret(NS, label_selector="n in (0),n!=1").items) == 4
        core.create_namespaced_secret(NS, {"metadata": {"name": "later"}})
        kube_admin(kube, "compact")
        with pytest.raises(ApiException) as expired:
            core.list_namespaced_secret(NS, limit=3, _continue=second.metadata._continue)
        assert expired.value.status == 410 and _error(expired)["reason"] == "Expired"


def test_watch_replays_from_a_resource_version_sends_bookmarks_and_410_when_too_old(kube):
    with api(kube) as client_:
        core = client.CoreV1Api(client_)
        _ns(core)
        start = core.list_namespaced_config_map(NS).metadata.resource_version
        core.create_namespaced_config_map(NS, {"metadata": {"name": "a", "labels": {"keep": "yes"}}})
        core.create_namespaced_config_map(NS, {"metadata": {"name": "b"}})
        core.patch_namespaced_config_map("a", NS, {"metadata": {"labels": {"keep": "no"}}})
        events = []
        stream = watch.Watch().stream(core.list_namespaced_config_map, NS, resource_version=start,
                                      label_selector="keep=yes", timeout_seconds=2, allow_watch_bookmarks=True)
        for event in stream:
            events.append((event["type"], event["object"].metadata.name if event["type"] != "BOOKMARK" else None))
        assert events[:2] == [("ADDED", "a"), ("DELETED", "a")], "an object that stops matching is DELETED"
        assert ("BOOKMARK", None) in events
        kube_admin(kube, "compact")
        raw = core.list_namespaced_config_map(NS, watch=True, resource_version=start, timeout_seconds=1,
                                              _preload_content=False)
        first = json.loads(raw.read().decode().splitlines()[0])
        assert first["type"] == "ERROR" and first["object"]["code"] == 410


def test_patches_json_merge_and_strategic(kube):
    with api(kube) as client_:
        core, apps = client.CoreV1Api(client_), client.AppsV1Api(client_)
        _ns(core)
        apps.create_namespaced_deployment(NS, _deployment())
        apps.patch_namespaced_deployment("web", NS, {"spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": "app:2"}]}}}})
        assert apps.read_namespaced_deployment("web", NS).spec.template.spec.containers[0].image == "app:2"
        apps.patch_namespaced_deployment("web", NS, [{"op": "replace", "path": "/spec/replicas", "value": 3}])
        deployment = apps.read_namespaced_deployment("web", NS)
        assert deployment.spec.replicas == 3 and deployment.metadata.generation == 3


def test_server_side_apply_tracks_managers_and_reports_conflicts(kube):
    with api(kube) as client_:
        core = client.CoreV1Api(client_)
        _ns(core)
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"color": "blue"}}

        def apply(manager: str, data: dict, force: bool = False) -> dict:
            response = core.patch_namespaced_config_map(
                "cfg", NS, {**body, "data": data}, field_manager=manager, force=force,
                _content_type="application/apply-patch+yaml", _preload_content=False,
            )
            return json.loads(response.data)

        created = apply("prdeck", {"color": "blue", "size": "m"})
        assert created["data"] == {"color": "blue", "size": "m"}
        assert created["metadata"]["managedFields"][0]["manager"] == "prdeck"
        with pytest.raises(ApiException) as conflict:
            apply("someone-else", {"color": "red"})
        assert conflict.value.status == 409 and "conflict with \"prdeck\"" in _error(conflict)["message"]
        forced = apply("someone-else", {"color": "red"}, force=True)
        assert forced["data"]["color"] == "red"
        shrunk = apply("prdeck", {"size": "m"})
        assert shrunk["data"] == {"color": "red", "size": "m"}, "fields owned by another manager stay"


def test_a_token_without_rights_gets_403(kube):
    kube_admin(kube, "deny", {"verb": "delete", "resource": "namespaces"})
    with api(kube) as client_:
        core = client.CoreV1Api(client_)
        _ns(core)
        with pytest.raises(ApiException) as denied:
            core.delete_namespace(NS)
        assert denied.value.status == 403
        assert 'cannot delete resource "namespaces"' in _error(denied)["message"]


def test_deployments_become_ready_pods_and_write_logs_and_events(kube):
    with api(kube) as client_:
        core, apps = client.CoreV1Api(client_), client.AppsV1Api(client_)
        _ns(core)
        apps.create_namespaced_deployment(NS, _deployment(replicas=2))
        eventually(lambda: apps.read_namespaced_deployment("web", NS).status.ready_replicas == 2)
        pods = core.list_namespaced_pod(NS, label_selector="app=web").items
        assert len(pods) == 2 and all(p.status.phase == "Running" for p in pods)
        assert pods[0].metadata.owner_references[0].kind == "ReplicaSet"
        assert len(apps.list_namespaced_replica_set(NS).items) == 1
        log = eventually(lambda: core.read_namespaced_pod_log(pods[0].metadata.name, NS, tail_lines=2))
        assert len(log.strip().splitlines()) == 2
        stamped = core.read_namespaced_pod_log(pods[0].metadata.name, NS, timestamps=True)
        assert stamped.splitlines()[0][:4].isdigit() and "Z " in stamped.splitlines()[0]
        reasons = {e.reason for e in core.list_namespaced_event(NS).items}
        assert {"ScalingReplicaSet", "SuccessfulCreate", "Scheduled", "Pulled", "Started"} <= reasons


def test_a_pod_waits_in_container_creating_until_its_config_maps_and_secrets_exist(kube):
    """As the kubelet: a volume's ConfigMap/Secret that is missing is a FailedMount event, and the pod starts once
    it is there (an optional one does not hold it back)."""
    with api(kube) as client_:
        core, apps = client.CoreV1Api(client_), client.AppsV1Api(client_)
        _ns(core)
        deployment = _deployment()
        deployment["spec"]["template"]["spec"]["volumes"] = [
            {"name": "conf", "configMap": {"name": "files-web-0"}},
            {"name": "keys", "projected": {"sources": [{"secret": {"name": "keys"}},
                                                      {"configMap": {"name": "maybe", "optional": True}}]}}]
        apps.create_namespaced_deployment(NS, deployment)
        messages = eventually(lambda: {e.message for e in core.list_namespaced_event(NS).items
                                       if e.reason == "FailedMount"} or None)
        assert messages == {'MountVolume.SetUp failed for volume "conf" : configmap "files-web-0" not found',
                            'MountVolume.SetUp failed for volume "keys" : secret "keys" not found'}
        (pod,) = core.list_namespaced_pod(NS).items
        assert pod.status.container_statuses[0].state.waiting.reason == "ContainerCreating"
        core.create_namespaced_config_map(NS, {"metadata": {"name": "files-web-0"}, "data": {"a": "1"}})
        core.create_namespaced_secret(NS, {"metadata": {"name": "keys"}, "stringData": {"k": "v"}})
        eventually(lambda: apps.read_namespaced_deployment("web", NS).status.ready_replicas == 1)


def test_missing_images_back_off_and_crashing_ones_loop_with_previous_logs(kube):
    kube_admin(kube, "images", {"image": "gone:1", "missing": True})
    kube_admin(kube, "images", {"image": "crash:1", "crash": True})
    with api(kube) as client_:
        core, apps = client.CoreV1Api(client_), client.AppsV1Api(client_)
        _ns(core)
        apps.create_namespaced_deployment(NS, _deployment("missing", "gone:1"))
        apps.create_namespaced_deployment(NS, _deployment("crashy", "crash:1"))

        def waiting(app: str) -> str | None:
            pods = core.list_namespaced_pod(NS, label_selector=f"app={app}").items
            statuses = pods[0].status.container_statuses if pods else None
            return statuses[0].state.waiting.reason if statuses and statuses[0].state.waiting else None

        eventually(lambda: waiting("missing") == "ImagePullBackOff")
        eventually(lambda: waiting("crashy") == "CrashLoopBackOff")
        pod = core.list_namespaced_pod(NS, label_selector="app=crashy").items[0]
        assert pod.status.container_statuses[0].restart_count >= 1
        previous = core.read_namespaced_pod_log(pod.metadata.name, NS, previous=True)
        assert "exit status 1" in previous
        missing = core.list_namespaced_pod(NS, label_selector="app=missing").items[0]
        with pytest.raises(ApiException) as not_started:
            core.read_namespaced_pod_log(missing.metadata.name, NS)
        assert not_started.value.status == 400 and "waiting to start" in _error(not_started)["message"]


def test_log_options_follow_container_and_since(kube):
    with api(kube) as client_:
        core = client.CoreV1Api(client_)
        _ns(core)
        core.create_namespaced_pod(NS, {"metadata": {"name": "two"}, "spec": {"containers": [
            {"name": "a", "image": "x:1"}, {"name": "b", "image": "y:1"}]}})
        eventually(lambda: core.read_namespaced_pod("two", NS).status.phase == "Running")
        with pytest.raises(ApiException) as which:
            core.read_namespaced_pod_log("two", NS)
        assert "choose one of: [a b]" in _error(which)["message"]
        assert core.read_namespaced_pod_log("two", NS, container="b", since_seconds=3600)
        response = core.read_namespaced_pod_log("two", NS, container="a", follow=True, _preload_content=False)
        lines: list[bytes] = []

        def read() -> None:
            with contextlib.suppress(Exception):  # the stream ends when the sandbox stops
                for chunk in response.stream(64):
                    lines.append(chunk)

        threading.Thread(target=read, daemon=True).start()
        eventually(lambda: sum(chunk.count(b"\n") for chunk in lines) >= 8, timeout=5)
        response.shutdown()


def test_deleting_a_namespace_terminates_it_and_removes_its_objects(kube):
    with api(kube) as client_:
        core, apps = client.CoreV1Api(client_), client.AppsV1Api(client_)
        _ns(core)
        apps.create_namespaced_deployment(NS, _deployment())
        eventually(lambda: core.list_namespaced_pod(NS).items)
        core.delete_namespace(NS)
        assert core.read_namespace(NS).status.phase == "Terminating"
        with pytest.raises(ApiException) as refused:
            core.create_namespaced_config_map(NS, {"metadata": {"name": "late"}})
        assert refused.value.status == 403

        def gone() -> bool:
            try:
                core.read_namespace(NS)
            except ApiException as exc:
                return exc.status == 404
            return False

        eventually(gone)
        assert not apps.list_deployment_for_all_namespaces().items


def test_stats_count_requests_by_verb_and_resource(kube):
    kube_admin(kube, "reset-stats")
    with api(kube) as client_:
        core = client.CoreV1Api(client_)
        core.list_pod_for_all_namespaces()
        core.list_namespace()
    assert kube_admin(kube, "stats", method="GET") == {"list pods": 1, "list namespaces": 1}


def test_requests_without_a_valid_token_are_401(kube):
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{kube.url}/api/v1/namespaces", timeout=5, context=kube.client_ssl_context())
    assert refused.value.code == 401 and json.load(refused.value)["reason"] == "Unauthorized"
