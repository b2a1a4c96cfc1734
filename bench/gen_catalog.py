"""A generated File-Based Catalog of production size, for the benchmarks.

``generated_catalog()`` returns ``.bench/generated-catalog-<seed>/`` (created once, then reused):
420 packages, 8,000+ bundles, over 300 MB of ``olm.bundle.object`` JSON, written as opm writes it
(``<pkg>/catalog.json``). The same seed always gives the same bytes.

Bundles look real: each carries a ClusterServiceVersion (description, alm-examples, CRD
descriptors, a deployment with containers and RBAC rules, related images), one to three CRDs with
nested openAPIV3Schema, a Service and a ClusterRole, all as ``olm.bundle.object`` payloads; the
``olm.gvk``/``olm.package``/``olm.package.required`` properties match them. Each package has a
``stable`` channel (a replaces chain over all its bundles, with skips and skipRanges) and a
``fast`` channel over its newest bundles; the whole catalog passes ``opm validate``.

Run ``python -m bench.gen_catalog [--seed N] [--force]`` to (re)create it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import shutil
import sys
from pathlib import Path
from typing import Any

from catalog import declcfg as d
from catalog.jsonutil import marshal_html
from catalog.write import write_fs

__all__ = ["PACKAGES", "SEED", "TARGET_BUNDLES", "generate", "generated_catalog"]

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / ".bench"
SEED = 20240601
PACKAGES = 420
TARGET_BUNDLES = 8000
FORMAT_VERSION = "2"  # bump when the generator's output changes

_WORDS = [
    "operator",
    "cluster",
    "controller",
    "reconcile",
    "resource",
    "status",
    "spec",
    "deployment",
    "service",
    "route",
    "ingress",
    "secret",
    "config",
    "map",
    "volume",
    "storage",
    "backup",
    "restore",
    "replica",
    "shard",
    "node",
    "pod",
    "container",
    "image",
    "registry",
    "metrics",
    "monitoring",
    "alert",
    "rule",
    "policy",
    "network",
    "tenant",
    "namespace",
    "webhook",
    "certificate",
    "token",
    "identity",
    "database",
    "cache",
    "queue",
    "stream",
    "topic",
    "broker",
    "gateway",
    "proxy",
    "mesh",
    "sidecar",
    "telemetry",
    "trace",
    "log",
    "audit",
    "schedule",
    "job",
    "cron",
    "scale",
    "autoscale",
    "upgrade",
    "rollout",
    "canary",
    "version",
    "channel",
    "bundle",
    "catalog",
    "subscription",
    "install",
    "manage",
    "provision",
    "lifecycle",
    "health",
    "probe",
    "readiness",
    "liveness",
    "endpoint",
    "port",
    "protocol",
    "tls",
    "encryption",
    "key",
    "vault",
    "kafka",
    "redis",
    "postgres",
    "mysql",
    "mongo",
    "elastic",
    "search",
    "index",
    "query",
    "dashboard",
    "console",
    "plugin",
    "api",
    "group",
]
_KINDS = ("Cluster", "Backup", "Restore", "Instance", "Gateway", "Policy", "Topic", "Tenant", "Pipeline")


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(_WORDS, k=n))


def _schema(rng: random.Random, depth: int, width: int) -> dict[str, Any]:
    """A nested openAPIV3Schema object with descriptions, like controller-gen writes."""
    props: dict[str, Any] = {}
    for _ in range(width):
        name = rng.choice(_WORDS) + rng.choice(_WORDS).capitalize()
        kind = rng.random()
        if depth > 0 and kind < 0.3:
            props[name] = _schema(rng, depth - 1, max(2, width // 2))
        elif kind < 0.45:
            props[name] = {
                "description": _words(rng, rng.randint(8, 30)) + ".",
                "items": {"type": "string"},
                "type": "array",
            }
        elif kind < 0.6:
            props[name] = {
                "description": _words(rng, rng.randint(6, 20)) + ".",
                "format": "int32",
                "minimum": 0,
                "type": "integer",
            }
        else:
            props[name] = {"description": _words(rng, rng.randint(6, 40)) + ".", "type": "string"}
    return {"description": _words(rng, rng.randint(10, 25)) + ".", "properties": props, "type": "object"}


def _crd(rng: random.Random, group: str, kind: str, versions: list[str]) -> dict[str, Any]:
    plural = kind.lower() + "s"
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "annotations": {"controller-gen.kubebuilder.io/version": "v0.16.1"},
            "creationTimestamp": None,
            "name": f"{plural}.{group}",
        },
        "spec": {
            "group": group,
            "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": v,
                    "schema": {
                        "openAPIV3Schema": {
                            "properties": {
                                "apiVersion": {"description": _words(rng, 30), "type": "string"},
                                "kind": {"description": _words(rng, 30), "type": "string"},
                                "metadata": {"type": "object"},
                                "spec": _schema(rng, 2, 6),
                                "status": _schema(rng, 1, 3),
                            },
                            "type": "object",
                        }
                    },
                    "served": True,
                    "storage": i == len(versions) - 1,
                    "subresources": {"status": {}},
                }
                for i, v in enumerate(versions)
            ],
        },
        "status": {"acceptedNames": {"kind": "", "plural": ""}, "conditions": None, "storedVersions": None},
    }


def _digest(rng: random.Random) -> str:
    return "sha256:" + hashlib.sha256(rng.randbytes(16)).hexdigest()


def _csv(
    rng: random.Random,
    pkg: str,
    version: str,
    replaces: str | None,
    crds: list[tuple[str, str, list[str]]],
    images: list[tuple[str, str]],
) -> dict[str, Any]:
    name = f"{pkg}.v{version}"
    owned = [
        {
            "name": f"{kind.lower()}s.{group}",
            "version": versions[-1],
            "kind": kind,
            "displayName": kind,
            "description": _words(rng, 12),
            "specDescriptors": [
                {
                    "path": rng.choice(_WORDS),
                    "displayName": rng.choice(_WORDS).capitalize(),
                    "description": _words(rng, 10),
                    "x-descriptors": ["urn:alm:descriptor:com.tectonic.ui:text"],
                }
                for _ in range(rng.randint(2, 6))
            ],
            "statusDescriptors": [
                {"path": "conditions", "x-descriptors": ["urn:alm:descriptor:io.kubernetes.conditions"]}
            ],
        }
        for group, kind, versions in crds
    ]
    examples = [
        {"apiVersion": f"{group}/{versions[-1]}", "kind": kind, "metadata": {"name": "example"}, "spec": {}}
        for group, kind, versions in crds
    ]
    operator_image = images[0][1]
    spec: dict[str, Any] = {
        "apiservicedefinitions": {},
        "customresourcedefinitions": {"owned": owned},
        "description": "\n\n".join(_words(rng, rng.randint(40, 90)) for _ in range(rng.randint(6, 12))),
        "displayName": pkg.replace("-", " ").title(),
        "icon": [{"base64data": base64.b64encode(rng.randbytes(96)).decode(), "mediatype": "image/png"}],
        "install": {
            "spec": {
                "clusterPermissions": [
                    {
                        "rules": [
                            {
                                "apiGroups": [group],
                                "resources": [f"{kind.lower()}s", f"{kind.lower()}s/status"],
                                "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
                            }
                            for group, kind, _ in crds
                        ]
                        + [
                            {
                                "apiGroups": [""],
                                "resources": ["pods", "services", "configmaps"],
                                "verbs": ["*"],
                            }
                        ],
                        "serviceAccountName": f"{pkg}-controller-manager",
                    }
                ],
                "deployments": [
                    {
                        "label": {"control-plane": "controller-manager"},
                        "name": f"{pkg}-controller-manager",
                        "spec": {
                            "replicas": 1,
                            "selector": {"matchLabels": {"control-plane": "controller-manager"}},
                            "template": {
                                "metadata": {"labels": {"control-plane": "controller-manager"}},
                                "spec": {
                                    "containers": [
                                        {
                                            "args": ["--leader-elect", "--health-probe-bind-address=:8081"],
                                            "env": [
                                                {"name": n.upper(), "value": img} for n, img in images[1:]
                                            ],
                                            "image": operator_image,
                                            "livenessProbe": {
                                                "httpGet": {"path": "/healthz", "port": 8081},
                                                "initialDelaySeconds": 15,
                                            },
                                            "name": "manager",
                                            "resources": {
                                                "limits": {"cpu": "500m", "memory": "512Mi"},
                                                "requests": {"cpu": "10m", "memory": "64Mi"},
                                            },
                                        }
                                    ],
                                    "serviceAccountName": f"{pkg}-controller-manager",
                                    "terminationGracePeriodSeconds": 10,
                                },
                            },
                        },
                    }
                ],
            },
            "strategy": "deployment",
        },
        "installModes": [
            {"supported": True, "type": "OwnNamespace"},
            {"supported": True, "type": "SingleNamespace"},
            {"supported": False, "type": "MultiNamespace"},
            {"supported": True, "type": "AllNamespaces"},
        ],
        "keywords": rng.sample(_WORDS, 4),
        "links": [{"name": "Documentation", "url": f"https://example.com/{pkg}/docs"}],
        "maintainers": [{"email": f"team@{pkg}.example.com", "name": "Maintainers"}],
        "maturity": rng.choice(["alpha", "beta", "stable"]),
        "minKubeVersion": "1.25.0",
        "provider": {"name": "Example Inc.", "url": "https://example.com"},
        "relatedImages": [{"image": img, "name": n} for n, img in images],
        "version": version,
    }
    if replaces:
        spec["replaces"] = replaces
    return {
        "apiVersion": "operators.coreos.com/v1alpha1",
        "kind": "ClusterServiceVersion",
        "metadata": {
            "annotations": {
                "alm-examples": marshal_html(examples).decode(),
                "capabilities": "Seamless Upgrades",
                "categories": "Database,Monitoring",
                "containerImage": operator_image,
                "createdAt": f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T10:00:00Z",
                "operators.operatorframework.io/builder": "operator-sdk-v1.39.0",
                "repository": f"https://github.com/example/{pkg}",
            },
            "name": name,
            "namespace": "placeholder",
        },
        "spec": spec,
    }


def _object_property(obj: dict[str, Any]) -> d.Property:
    return d.Property(d.PROP_BUNDLE_OBJECT, {"data": base64.b64encode(marshal_html(obj)).decode()})


def _versions(rng: random.Random, count: int) -> list[str]:
    major, minor, patch = rng.randint(0, 2), rng.randint(0, 9), 0
    out = []
    for _ in range(count):
        out.append(f"{major}.{minor}.{patch}")
        step = rng.random()
        if step < 0.7:
            patch += 1
        elif step < 0.95:
            minor, patch = minor + 1, 0
        else:
            major, minor, patch = major + 1, 0, 0
    return out


def _package(rng: random.Random, index: int, count: int, all_packages: list[str]) -> d.DeclarativeConfig:
    word = rng.choice(_WORDS)
    pkg = f"gen-{word}-operator-{index:03d}"
    group = f"{word}{index}.example.com"
    kinds = rng.sample(_KINDS, rng.randint(1, 3))
    versions = _versions(rng, count)
    cfg = d.DeclarativeConfig()
    cfg.packages.append(
        d.Package(
            name=pkg,
            default_channel="stable",
            icon=d.Icon(base64.b64encode(rng.randbytes(240)).decode(), "image/png"),
            description=_words(rng, 60),
        )
    )
    names = [f"{pkg}.v{v}" for v in versions]
    entries = []
    skip_next = False
    for i, name in enumerate(names):
        entry = d.ChannelEntry(name=name, replaces=names[i - 1] if i else "")
        if skip_next:  # replace the one before the previous bundle and skip the previous one
            entry.replaces, entry.skips = names[i - 2], [names[i - 1]]
        skip_next = i >= 1 and i < len(names) - 2 and not skip_next and rng.random() < 0.15
        if i and rng.random() < 0.3:
            entry.skip_range = f">={versions[0]} <{versions[i]}"
        entries.append(entry)
    cfg.channels.append(d.Channel(name="stable", package=pkg, entries=entries))
    fast = names[-min(len(names), 5) :]
    cfg.channels.append(
        d.Channel(
            name="fast",
            package=pkg,
            entries=[d.ChannelEntry(name=n, replaces=fast[i - 1] if i else "") for i, n in enumerate(fast)],
        )
    )
    required = rng.sample([p for p in all_packages if p != pkg], 1) if rng.random() < 0.2 else []
    for i, (version, name) in enumerate(zip(versions, names, strict=True)):
        crd_versions = ["v1alpha1", "v1beta1", "v1"][: 1 + min(2, i // 6)]
        crds = [(group, kind, crd_versions) for kind in kinds]
        images = [("manager", f"quay.io/example/{pkg}@{_digest(rng)}")] + [
            (f"{w}_image", f"quay.io/example/{pkg}-{w}@{_digest(rng)}") for w in rng.sample(_WORDS, 2)
        ]
        bundle_image = f"quay.io/example/{pkg}-bundle@{_digest(rng)}"
        objects = [_crd(rng, g, k, vs) for g, k, vs in crds]
        objects.append(_csv(rng, pkg, version, names[i - 1] if i else None, crds, images))
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": f"{pkg}-metrics", "labels": {"control-plane": "controller-manager"}},
                "spec": {"ports": [{"name": "https", "port": 8443, "targetPort": "https"}]},
            }
        )
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": f"{pkg}-metrics-reader"},
                "rules": [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}],
            }
        )
        props = [
            d.Property(d.PROP_GVK, {"group": g, "kind": k, "version": v}) for g, k, vs in crds for v in vs
        ]
        props.append(d.Property(d.PROP_PACKAGE, {"packageName": pkg, "version": version}))
        props.extend(
            d.Property(d.PROP_PACKAGE_REQUIRED, {"packageName": r, "versionRange": ">=0.1.0"})
            for r in required
        )
        props.extend(sorted((_object_property(o) for o in objects), key=lambda p: p.value["data"]))
        related = sorted(
            [d.RelatedImage(n, img) for n, img in images] + [d.RelatedImage("", bundle_image)],
            key=lambda r: r.image,
        )
        cfg.bundles.append(
            d.Bundle(name=name, package=pkg, image=bundle_image, properties=props, related_images=related)
        )
    return cfg


def _counts(rng: random.Random, packages: int, bundles: int) -> list[int]:
    counts = [rng.randint(8, 30) for _ in range(packages)]
    while sum(counts) < bundles:
        counts[rng.randrange(packages)] += 1
    return counts


def generate(root: Path, seed: int = SEED, packages: int = PACKAGES, bundles: int = TARGET_BUNDLES) -> Path:
    """Write the catalog under ``root`` (which must not exist yet); returns ``root``."""
    rng = random.Random(seed)
    counts = _counts(rng, packages, bundles)
    names = [f"pkg-{i}" for i in range(packages)]  # only used to pick dependency names, below
    tmp = root.with_name(root.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    written = []
    for index, count in enumerate(counts):
        cfg = _package(random.Random(rng.randrange(2**63)), index, count, written or names[:1])
        write_fs(cfg, tmp)
        written.append(cfg.packages[0].name)
    os.replace(tmp, root)
    return root


def generated_catalog(seed: int = SEED) -> Path:
    """The generated catalog's directory, generating it first if it is not cached under ``.bench/``."""
    root = BENCH_DIR / f"generated-catalog-{seed}-v{FORMAT_VERSION}"
    if not root.is_dir():
        BENCH_DIR.mkdir(exist_ok=True)
        generate(root, seed)
    return root


def main(argv: list[str]) -> int:
    seed = SEED
    if "--seed" in argv:
        seed = int(argv[argv.index("--seed") + 1])
    root = BENCH_DIR / f"generated-catalog-{seed}-v{FORMAT_VERSION}"
    if "--force" in argv:
        shutil.rmtree(root, ignore_errors=True)
    path = generated_catalog(seed)
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    print(f"{path} ({size / 1e6:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
