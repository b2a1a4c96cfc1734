"""The ``olm.maxOpenShiftVersion`` rule IIB applies to added bundles (spec/iib.md §4.1 step 7).

A bundle that still ships APIs Kubernetes 1.22 (OCP 4.9) removed gets the property
``olm.maxOpenShiftVersion: 4.8`` when it has none, so OCP will not offer an upgrade it cannot run.
(The ``com.redhat.openshift.versions`` label rules of a merge need image labels and live with the
step commands, in ``iib_steps.resolve``; :func:`catalog.ops.merge.merge_catalogs` takes a predicate.)
"""

from __future__ import annotations

from catalog.declcfg import Bundle
from catalog.migrations import bundle_objects

MAX_OPENSHIFT_VERSION = "olm.maxOpenShiftVersion"

# (apiVersion, kind) pairs that Kubernetes 1.22 stopped serving.
_REMOVED_IN_1_22 = {
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
    ("apiregistration.k8s.io/v1beta1", "APIService"),
    ("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration"),
    ("authentication.k8s.io/v1beta1", "TokenReview"),
    ("authorization.k8s.io/v1beta1", "LocalSubjectAccessReview"),
    ("authorization.k8s.io/v1beta1", "SelfSubjectAccessReview"),
    ("authorization.k8s.io/v1beta1", "SubjectAccessReview"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"),
    ("coordination.k8s.io/v1beta1", "Lease"),
    ("extensions/v1beta1", "Ingress"),
    ("networking.k8s.io/v1beta1", "Ingress"),
    ("networking.k8s.io/v1beta1", "IngressClass"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1beta1", "Role"),
    ("rbac.authorization.k8s.io/v1beta1", "RoleBinding"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass"),
    ("storage.k8s.io/v1beta1", "CSIDriver"),
    ("storage.k8s.io/v1beta1", "CSINode"),
    ("storage.k8s.io/v1beta1", "StorageClass"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"),
}


def needs_max_openshift_version(bundle: Bundle) -> bool:
    """Whether the bundle ships an API removed in Kubernetes 1.22 and sets no maximum OCP version."""
    if any(p.type == MAX_OPENSHIFT_VERSION for p in bundle.properties):
        return False
    for obj in bundle_objects(bundle):
        if (str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")) in _REMOVED_IN_1_22:
            return True
    return False
