"""Settings: defaults, files in YAML and JSON, clear one-line errors, secrets never printed."""

from __future__ import annotations

import pytest

from iib_steps.config import CUSTOMIZATION_TYPES, Settings, load_settings, read_secret
from iib_steps.errors import StepError


def test_defaults_without_a_file(monkeypatch):
    monkeypatch.delenv("IIB_STEPS_CONFIG", raising=False)
    settings = load_settings()
    assert settings.image_push_template == "{registry}/iib-build:{request_id}"
    assert settings.supported_archs["arm64"] == "aarch64"
    assert [c.type for c in settings.customizations_for("unknown-org")] == list(CUSTOMIZATION_TYPES)


def test_yaml_file_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "settings.yaml"
    path.write_text(
        "registry: registry.example.com\n"
        "binary_image_config:\n  prod:\n    v4.19: quay.io/opm:v4.19\n"
        "organization_customizations:\n  acme:\n"
        "    - type: package_name_suffix\n      suffix: -acme\n"
        "    - type: resolve_image_pullspecs\n"
    )
    monkeypatch.setenv("IIB_STEPS_CONFIG", str(path))
    settings = load_settings()
    assert settings.registry == "registry.example.com"
    assert settings.binary_image_config == {"prod": {"v4.19": "quay.io/opm:v4.19"}}
    custom = settings.customizations_for("acme")
    assert [(c.type, c.suffix) for c in custom] == [
        ("package_name_suffix", "-acme"),
        ("resolve_image_pullspecs", None),
    ]


def test_json_file(tmp_path):
    path = tmp_path / "s.json"
    path.write_text('{"catalog_layer_groups": 4, "total_attempts": 2}')
    settings = load_settings(path)
    assert (settings.catalog_layer_groups, settings.total_attempts) == (4, 2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("binary_image_config:\n  qa:\n    v4.1: x\n", "invalid at binary_image_config"),
        ("unknown_key: 1\n", "invalid at unknown_key"),
        ("organization_customizations:\n  o:\n    - type: paint_it_blue\n", "unknown customization type"),
        ("- a list\n", "must hold a mapping"),
        ("a: [unclosed\n", "not valid YAML/JSON"),
        ("catalog_layer_groups: 0\n", "invalid at catalog_layer_groups"),
        ("catalog_workers: -1\n", "invalid at catalog_workers"),
    ],
)
def test_bad_files_give_one_line(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(StepError) as info:
        load_settings(path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(StepError, match="cannot read the settings file"):
        load_settings(tmp_path / "absent.yaml")


def test_secrets_from_file_or_env_never_printed(tmp_path, monkeypatch):
    (tmp_path / "tok").write_text("s3cr3t\n")
    secret = read_secret(file=str(tmp_path / "tok"))
    assert secret is not None and secret.reveal() == "s3cr3t"
    assert "s3cr3t" not in repr(secret) and "s3cr3t" not in str(secret) and "s3cr3t" not in f"{secret}"
    monkeypatch.setenv("MY_TOKEN", "envtok")
    assert read_secret(env="MY_TOKEN").reveal() == "envtok"
    assert read_secret(env="NOT_SET_ANYWHERE_42") is None


def test_insecure_registries_from_the_file_add_to_the_environments(tmp_path, monkeypatch):
    from iib_steps.operations.imaging import ImageIO

    path = tmp_path / "s.yaml"
    path.write_text("insecure_registries: [127.0.0.1:5000, registry.test]\n")
    monkeypatch.setenv("IIB_INSECURE_REGISTRIES", "other.test:8443")
    settings = load_settings(path)
    assert settings.insecure_registries == ["127.0.0.1:5000", "registry.test"]
    client = ImageIO(settings).client
    assert client.insecure == {"127.0.0.1:5000", "registry.test", "other.test:8443"}
    monkeypatch.delenv("IIB_INSECURE_REGISTRIES")
    assert ImageIO(Settings()).client.insecure == set()
