"""Settings and secrets from mounted Secrets/ConfigMaps, as optional Tekton workspaces give them."""

from __future__ import annotations

from pathlib import Path

import pytest

from iib_steps.config import load_settings, mounted_file, read_secret
from iib_steps.errors import StepError


def test_an_empty_path_is_an_unbound_workspace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IIB_STEPS_CONFIG", raising=False)
    assert mounted_file("", "token") is None
    assert read_secret("", "NOT_SET_ANYWHERE_42") is None
    assert load_settings("").registry == load_settings(None).registry


def test_a_directory_means_the_key_inside_it(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("user:tok\n")
    assert read_secret(str(tmp_path)).reveal() == "user:tok"
    (tmp_path / "config.yaml").write_text("registry: reg.example.com\n")
    assert load_settings(tmp_path).registry == "reg.example.com"


def test_a_directory_without_the_key_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(StepError, match=r"holds neither config.yaml nor config.json"):
        load_settings(tmp_path)
    with pytest.raises(StepError, match=r"cannot read the secret file .*/token"):
        read_secret(str(tmp_path))


def test_the_status_api_token_from_a_mounted_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "token").write_text("s3cret")
    monkeypatch.setenv("IIB_STATUS_API_TOKEN_FILE", str(tmp_path))
    monkeypatch.delenv("IIB_STATUS_API_TOKEN", raising=False)
    token = load_settings(None).status_api_token()
    assert token is not None and token.reveal() == "s3cret"
    monkeypatch.setenv("IIB_STATUS_API_TOKEN_FILE", "")
    assert load_settings(None).status_api_token() is None
