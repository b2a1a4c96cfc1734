"""Greenwave gating (iib_steps/greenwave.py) against a Greenwave decision API of our own on loopback."""

from __future__ import annotations

import pytest

from iib_steps.errors import StepError
from iib_steps.greenwave import gate_bundles, koji_build_nvr, parse_config
from tests.fixtures.greenwave import Greenwave, missing

CONFIG = {
    "decision_context": "iib_cvp_redhat_operator",
    "product_version": "cvp",
    "subject_type": "koji_build",
}
ETCD = ("quay.io/ns/etcd-bundle@sha256:" + "1" * 64, {
    "com.redhat.component": "etcd-bundle-container", "version": "0.9.4", "release": "3"})  # fmt: skip
KAFKA = ("quay.io/ns/kafka-bundle@sha256:" + "2" * 64, {
    "com.redhat.component": "kafka-bundle-container", "version": "2.1", "release": "7"})  # fmt: skip


def test_every_bundle_is_queried_with_the_queue_config_and_its_nvr(greenwave: Greenwave) -> None:
    greenwave.decisions = {
        "etcd-bundle-container-0.9.4-3": (True, []),
        "kafka-bundle-container-2.1-7": (True, []),
    }
    gate_bundles(greenwave.url, [ETCD, KAFKA], CONFIG)
    assert greenwave.received == [
        {**CONFIG, "subject_identifier": "etcd-bundle-container-0.9.4-3"},
        {**CONFIG, "subject_identifier": "kafka-bundle-container-2.1-7"},
    ]


def test_unsatisfied_policies_name_the_bundles_and_every_requirement(greenwave: Greenwave) -> None:
    greenwave.decisions = {
        "etcd-bundle-container-0.9.4-3": (
            False,
            missing("etcd-bundle-container-0.9.4-3", "cvp.redhat.detailed", "cvp.redhat.operator"),
        ),
        "kafka-bundle-container-2.1-7": (
            False,
            missing("kafka-bundle-container-2.1-7", "cvp.redhat.detailed"),
        ),
    }
    with pytest.raises(StepError) as failure:
        gate_bundles(greenwave.url, [ETCD, KAFKA], CONFIG)
    assert str(failure.value) == (
        f"Unsatisfied Greenwave policy for {ETCD[0]}, {KAFKA[0]} with decision_context: "
        "iib_cvp_redhat_operator, product_version: cvp, subject_type: koji_build and test cases: "
        "cvp.redhat.detailed, cvp.redhat.operator"
    )
    assert len(greenwave.received) == 2  # every bundle is asked before failing


def test_one_unsatisfied_bundle_fails_the_request(greenwave: Greenwave) -> None:
    greenwave.decisions = {
        "etcd-bundle-container-0.9.4-3": (True, []),
        "kafka-bundle-container-2.1-7": (
            False,
            missing("kafka-bundle-container-2.1-7", "cvp.redhat.detailed"),
        ),
    }
    with pytest.raises(StepError, match=r"^Unsatisfied Greenwave policy for quay.io/ns/kafka-bundle@"):
        gate_bundles(greenwave.url, [ETCD, KAFKA], CONFIG)


def test_a_greenwave_error_names_the_bundle_and_greenwaves_message(greenwave: Greenwave) -> None:
    with pytest.raises(StepError) as failure:
        gate_bundles(greenwave.url, [ETCD], CONFIG)
    assert str(failure.value) == (
        f"Gating check failed for {ETCD[0]}: Cannot find any applicable policies for koji_build "
        "subjects at gating point(s) iib_cvp_redhat_operator in cvp"
    )


def test_a_reply_without_a_decision(greenwave: Greenwave) -> None:
    with pytest.raises(StepError, match=r"^Gating check failed for .*etcd-bundle.*: "):
        gate_bundles(greenwave.url.replace("/api/v1.0", "/elsewhere"), [ETCD], CONFIG)


def test_unreachable_and_unconfigured_greenwave() -> None:
    with pytest.raises(StepError, match=r"^IIB is not configured to handle gating of bundles$"):
        gate_bundles(None, [ETCD], CONFIG)
    with pytest.raises(StepError, match=r"^Gating check failed for .*etcd-bundle"):
        gate_bundles("http://127.0.0.1:9", [ETCD], CONFIG, timeout=10)


def test_missing_nvr_labels_are_named() -> None:
    with pytest.raises(StepError, match="has no version, release label"):
        koji_build_nvr("b", {"com.redhat.component": "c"})


def test_the_config_option() -> None:
    assert parse_config(None) is None and parse_config("") is None
    assert parse_config(
        '{"decision_context": "d", "product_version": "p", "subject_type": "koji_build"}'
    ) == {
        "decision_context": "d",
        "product_version": "p",
        "subject_type": "koji_build",
    }
    message = r"^Missing required params decision_context in the Greenwave config$"
    with pytest.raises(StepError, match=message):
        parse_config('{"product_version": "p", "subject_type": "koji_build"}')
    with pytest.raises(StepError, match='only supports gating for subject_type "koji_build"'):
        parse_config('{"decision_context": "d", "product_version": "p", "subject_type": "compose"}')
    with pytest.raises(StepError, match="must be a JSON object"):
        parse_config("[1]")
