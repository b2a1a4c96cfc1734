"""``IIB_EXECUTOR=kubernetes``: create the request's PipelineRun on a cluster; Tekton runs it.

The PipelineRun names its Pipeline through the ``cluster`` or ``bundles`` resolver, carries the
params of ``params.pipeline_params``, the labels naming the request, the workspaces of the settings
and one Secret with the request's secrets (owned by the run, so deleted with it). Its name is the
same for the same request, so a retried create never starts a second run. The namespace and service
account follow IIB's queue routing (``IIB_USER_TO_QUEUE``, ``IIB_KUBERNETES_QUEUES``).

Runs are recorded by a watcher per namespace in this process (``IIB_KUBERNETES_WATCH``) or from
Tekton's CloudEvents; once a run is over, its pods' step logs are read and stored as the request's
log. Cancelling sets ``spec.status: Cancelled``.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from status_api.db import Database
from status_api.errors import ApiError
from status_api.executors.base import Notifier, RunRef, Silent, Submission
from status_api.executors.params import (
    RunSettings,
    pipeline_name,
    pipeline_params,
    run_annotations,
    run_labels,
    run_name,
    secret_files,
    tekton_params,
)
from status_api.executors.routing import Placement, placement, user_queue
from status_api.executors.steplogs import prefixed
from status_api.pipelinerun import RunOutcome, read_pipelinerun
from status_api.recording import record_run
from status_api.request_types import FINAL_STATES
from status_api.settings import Settings
from status_api.storage import LOGS, LocalStorage, S3Storage
from status_api.watcher import GROUP, PLURAL, VERSION, KubernetesSource, PipelineRunWatcher

log = logging.getLogger(__name__)


def pipeline_ref(settings: Settings, request_type: str) -> dict[str, Any]:
    """``spec.pipelineRef``: the Pipeline by the cluster resolver, or from the Tekton bundle."""
    name = pipeline_name(request_type)
    if settings.IIB_PIPELINE_RESOLVER == "bundles":
        params = [
            {"name": "bundle", "value": settings.IIB_PIPELINE_BUNDLE},
            {"name": "name", "value": name},
            {"name": "kind", "value": "pipeline"},
        ]
    else:
        params = [{"name": "kind", "value": "pipeline"}, {"name": "name", "value": name}]
        if settings.IIB_PIPELINE_NAMESPACE:
            params.append({"name": "namespace", "value": settings.IIB_PIPELINE_NAMESPACE})
    return {"resolver": settings.IIB_PIPELINE_RESOLVER, "params": params}


def build_pipelinerun(
    settings: Settings, submission: Submission, where: Placement, secret_name: str | None
) -> dict[str, Any]:
    """The PipelineRun object for ``submission`` (a ``tekton.dev/v1`` PipelineRun)."""
    run = RunSettings(status_api_url=settings.IIB_STATUS_API_URL, step_image=settings.IIB_STEP_IMAGE)
    workspaces = [{"name": name, **binding} for name, binding in settings.IIB_PIPELINE_WORKSPACES.items()]
    if secret_name:
        for workspace, files in secret_files(submission).items():
            items = [{"key": f"{workspace}.{key}", "path": key} for key in files]
            workspaces.append({"name": workspace, "secret": {"secretName": secret_name, "items": items}})
    spec: dict[str, Any] = {
        "pipelineRef": pipeline_ref(settings, submission.request_type),
        "params": tekton_params(pipeline_params(submission, run)),
    }
    if workspaces:
        spec["workspaces"] = workspaces
    if where.service_account:
        spec["taskRunTemplate"] = {"serviceAccountName": where.service_account}
    if settings.IIB_PIPELINE_TIMEOUT:
        spec["timeouts"] = {"pipeline": settings.IIB_PIPELINE_TIMEOUT}
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "PipelineRun",
        "metadata": {
            "name": run_name(settings.IIB_PIPELINERUN_PREFIX, submission),
            "namespace": where.namespace,
            "labels": run_labels(submission),
            "annotations": run_annotations(submission),
        },
        "spec": spec,
    }


def build_secret(name: str, namespace: str, submission: Submission) -> dict[str, Any] | None:
    """One Secret with every secret of the request (keys ``<workspace>.<file>``), or None."""
    files = secret_files(submission)
    if not files:
        return None
    data = {
        f"{workspace}.{key}": base64.b64encode(content.encode()).decode()
        for workspace, contents in files.items()
        for key, content in contents.items()
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": run_labels(submission)},
        "type": "Opaque",
        "data": data,
    }


def step_logs_text(core: Any, namespace: str, run: dict[str, Any]) -> str:
    """The step logs of a PipelineRun's pods, task by task in start order, each step in order."""
    name = run["metadata"]["name"]
    pods = core.list_namespaced_pod(namespace, label_selector=f"tekton.dev/pipelineRun={name}").items
    pods.sort(key=lambda pod: (str(pod.status.start_time or ""), pod.metadata.name))
    parts: list[str] = []
    for pod in pods:
        labels = pod.metadata.labels or {}
        task = labels.get("tekton.dev/pipelineTask") or labels.get("tekton.dev/task") or pod.metadata.name
        for container in pod.spec.containers:
            if not container.name.startswith("step-"):
                continue
            step = container.name.removeprefix("step-")
            text = core.read_namespaced_pod_log(pod.metadata.name, namespace, container=container.name)
            parts.append(prefixed(task, step, text))
    return "".join(parts)


def request_log_text(namespace: str, name: str, steps: str) -> str:
    """A request's log from its PipelineRun's step logs: a line naming the run, then the steps' lines."""
    return f"PipelineRun {namespace}/{name}\n{steps}"


class KubernetesExecutor:
    """Creates PipelineRuns with the ``kubernetes`` client; records and collects logs as they end."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        storage: LocalStorage | S3Storage,
        api_client: Any = None,
        *,
        notifier: Notifier | None = None,
        watch: bool | None = None,
        watch_timeout: int = 300,
    ) -> None:
        from kubernetes import client

        self.notifier = notifier or Silent()
        if api_client is None:
            api_client = _default_api_client()
        self.settings = settings
        self.db = db
        self.storage = storage
        self.custom = client.CustomObjectsApi(api_client)
        self.core = client.CoreV1Api(api_client)
        self.api_client = api_client
        self.namespace = settings.IIB_KUBERNETES_NAMESPACE or settings.IIB_WATCH_NAMESPACE
        self._logs = ThreadPoolExecutor(max_workers=2, thread_name_prefix="iib-k8s-logs")
        self._collected: set[str] = set()
        self._lock = threading.Lock()
        self.watchers: list[PipelineRunWatcher] = []
        if settings.IIB_KUBERNETES_WATCH if watch is None else watch:
            self._start_watchers(watch_timeout)

    # -- placement -------------------------------------------------------------------------------
    def placement(self, submission: Submission) -> Placement:
        queue = user_queue(self.settings.IIB_USER_TO_QUEUE, submission)
        return placement(
            queue,
            self.settings.IIB_KUBERNETES_QUEUES,
            self.namespace,
            self.settings.IIB_KUBERNETES_SERVICE_ACCOUNT,
        )

    def namespaces(self) -> list[str]:
        """Every namespace runs may be created in (the default and each queue's)."""
        found = {self.namespace}
        queues = set()
        for value in self.settings.IIB_USER_TO_QUEUE.values():
            queues.update(value.values() if isinstance(value, dict) else [value])
        for queue in queues:
            found.add(placement(queue, self.settings.IIB_KUBERNETES_QUEUES, self.namespace, None).namespace)
        return sorted(found)

    # -- Executor --------------------------------------------------------------------------------
    def submit(self, submission: Submission) -> None:
        from kubernetes.client.exceptions import ApiException

        where = self.placement(submission)
        name = run_name(self.settings.IIB_PIPELINERUN_PREFIX, submission)
        secret = build_secret(f"{name}-secrets", where.namespace, submission)
        if secret is not None:
            try:
                self.core.create_namespaced_secret(where.namespace, secret)
            except ApiException as exc:
                if exc.status != 409:
                    raise
                self.core.replace_namespaced_secret(secret["metadata"]["name"], where.namespace, secret)
        body = build_pipelinerun(
            self.settings, submission, where, secret["metadata"]["name"] if secret else None
        )
        try:
            created = self.custom.create_namespaced_custom_object(
                GROUP, VERSION, where.namespace, PLURAL, body
            )
        except ApiException as exc:
            if exc.status != 409:
                if secret is not None:  # no run will own it: do not leave the secrets behind
                    self._delete_secret(secret["metadata"]["name"], where.namespace)
                raise
            log.info("PipelineRun %s already exists; not creating it again", name)
            created = self.custom.get_namespaced_custom_object(GROUP, VERSION, where.namespace, PLURAL, name)
        if secret is not None:
            self._own_secret(secret["metadata"]["name"], where.namespace, created)
        self.notifier.on_recorded(record_run(self.db, read_pipelinerun(created)))

    def _delete_secret(self, secret: str, namespace: str) -> None:
        try:
            self.core.delete_namespaced_secret(secret, namespace)
        except Exception as exc:
            log.warning("Could not delete Secret %s/%s: %s", namespace, secret, exc)

    def _own_secret(self, secret: str, namespace: str, run: dict[str, Any]) -> None:
        owner = {
            "apiVersion": run["apiVersion"],
            "kind": "PipelineRun",
            "name": run["metadata"]["name"],
            "uid": run["metadata"]["uid"],
        }
        try:
            self.core.patch_namespaced_secret(secret, namespace, {"metadata": {"ownerReferences": [owner]}})
        except Exception as exc:  # the run works regardless; only the clean-up is lost
            log.warning("Could not make PipelineRun %s own Secret %s: %s", owner["name"], secret, exc)

    def cancel(self, request_id: int, run: RunRef) -> None:
        from kubernetes.client.exceptions import ApiException

        if not run.name:
            log.info("Request %d has no recorded PipelineRun to cancel", request_id)
            return
        try:
            self.custom.patch_namespaced_custom_object(
                GROUP,
                VERSION,
                run.namespace or self.namespace,
                PLURAL,
                run.name,
                {"spec": {"status": "Cancelled"}},
            )
        except ApiException as exc:
            if exc.status != 404:
                raise
            log.info("PipelineRun %s of request %d is gone", run.name, request_id)

    def recorded(self, outcome: RunOutcome, request_id: int) -> None:
        """Once the run is over, store its pods' step logs (in the background, once per run)."""
        if outcome.state not in FINAL_STATES:
            return
        with self._lock:
            if outcome.uid in self._collected:
                return
            self._collected.add(outcome.uid)
        self._logs.submit(self._collect_logs, outcome, request_id)

    def running_log(self, request_id: int, run: RunRef) -> str | None:
        """The step logs of the pods of a running request's PipelineRun, read now."""
        if not run.name:
            return None
        namespace = run.namespace or self.namespace
        try:
            text = step_logs_text(self.core, namespace, {"metadata": {"name": run.name}})
        except Exception as exc:
            log.warning("Could not read the step logs of PipelineRun %s: %s", run.name, exc)
            return None
        return request_log_text(namespace, run.name, text) if text else None

    def _collect_logs(self, outcome: RunOutcome, request_id: int) -> None:
        try:
            text = step_logs_text(self.core, outcome.namespace, {"metadata": {"name": outcome.name}})
        except Exception as exc:
            log.warning("Could not read the step logs of PipelineRun %s: %s", outcome.name, exc)
            with self._lock:
                self._collected.discard(outcome.uid)
            return
        if not text:
            return  # the pods are gone: keep whatever is stored
        if self.storage.configured(LOGS):
            # The whole log in one write (the storage replaces it atomically): a GET of the request's
            # log never sees the header line without the steps' lines.
            content = request_log_text(outcome.namespace, outcome.name, text)
            self.storage.put(LOGS, request_id, content.encode())

    def close(self) -> None:
        for watcher in self.watchers:
            watcher.stop()
        self._logs.shutdown(wait=True)

    # -- watching --------------------------------------------------------------------------------
    def _start_watchers(self, timeout: int) -> None:
        for namespace in self.namespaces():
            source = KubernetesSource(
                namespace, self.settings.IIB_WATCH_LABEL_SELECTOR, self.api_client, timeout
            )
            watcher = _RecordingWatcher(self.db, source, self)
            self.watchers.append(watcher)
            threading.Thread(target=watcher.run, name=f"iib-watch-{namespace}", daemon=True).start()


class _RecordingWatcher(PipelineRunWatcher):
    """The watcher, telling the executor about every run it recorded (for the logs)."""

    def __init__(self, db: Database, source: KubernetesSource, executor: KubernetesExecutor) -> None:
        super().__init__(db, source)
        self.executor = executor

    def handle(self, run: dict[str, Any]) -> None:
        try:
            outcome = read_pipelinerun(run)
            recorded = record_run(self.db, outcome)
        except ApiError as exc:
            log.warning("Skipping PipelineRun %s: %s", (run.get("metadata") or {}).get("name"), exc.message)
            return
        self.executor.notifier.on_recorded(recorded)
        self.executor.recorded(outcome, recorded.request_id)


def _default_api_client() -> Any:
    """In-cluster credentials, else the kubeconfig (``KUBECONFIG`` as it is now, not at import)."""
    from kubernetes import client, config

    configuration = client.Configuration()
    try:
        config.load_incluster_config(client_configuration=configuration)
    except config.ConfigException:
        config.load_kube_config(
            config_file=os.environ.get("KUBECONFIG") or None, client_configuration=configuration
        )
    return client.ApiClient(configuration)
