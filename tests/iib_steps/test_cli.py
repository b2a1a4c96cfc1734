"""``iib-step``: usage mistakes are one line and exit 2, every option has help, help fits 80 columns,
and ``--help`` imports no command module."""

from __future__ import annotations

import subprocess
import sys

import pytest

from iib_steps.cli import CATALOG_COMMANDS, COMMANDS, app, main_group, name_options
from iib_steps.lazy import load


def _leaves(command: object, path: list[str]) -> list[list[str]]:
    """Every runnable command under ``command``, as its path of names."""
    if not hasattr(command, "list_commands"):
        return [path]
    out = []
    for name in command.list_commands(None):  # type: ignore[attr-defined]
        out.extend(_leaves(command.get_command(None, name), [*path, name]))  # type: ignore[attr-defined]
    return out


COMMAND_PATHS = _leaves(main_group, [])


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        app(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_unknown_option_is_one_line_and_exit_2(path: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = _run([*path, "--bogus-option"], capsys)
    assert rc == 2
    assert err.count("\n") == 1
    assert err.startswith("error: No such option: --bogus-option")
    assert f"see 'iib-step {' '.join(path)} --help'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nosuchcmd"], "error: No such command 'nosuchcmd'"),
        (["catalog", "rendr"], "error: No such command 'rendr'. Did you mean 'render'?"),
        (["catalog", "graph", "only-one-arg"], "error: Missing argument 'package'"),
        (["image", "build-bundle", "examples/hello-operator/0.1.0"], "error: Missing argument 'refs'"),
        (["catalog", "graph", "d", "p", "-o", "png"], "error: Invalid value for '-o' / '--output'"),
    ],
)
def test_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = _run(argv, capsys)
    assert rc == 2
    assert err.startswith(message)
    assert err.count("\n") == 1


def test_bad_input_names_the_option(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    rc, _, err = _run(["rm", "--operators", "x", "--workdir", str(tmp_path)], capsys)
    assert rc == 1
    assert err.splitlines()[-1] == "error: Missing required parameter(s): from_index (option --from-index)"


def test_name_options_keeps_messages_without_fields() -> None:
    assert name_options("plain failure", None) == "plain failure"


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_every_option_has_help_and_help_fits_80_columns(
    path: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    command: object = main_group
    for name in path:
        command = command.get_command(None, name)  # type: ignore[attr-defined]
    for param in command.params:  # type: ignore[attr-defined]
        if param.param_type_name == "option":
            assert param.help, f"{' '.join(path)} {param.opts[0]} has no help text"
    rc, out, _ = _run([*path, "--help"], capsys)
    assert rc == 0
    assert max(len(line) for line in out.splitlines()) <= 80


def test_top_help_lists_commands_without_importing_them() -> None:
    code = (
        "import sys\n"
        "from iib_steps.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('catalog.load', 'pydantic', 'requests', 'iib_steps.commands.build_cmds')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out
    for name in COMMANDS:
        assert f"  {name} " in out


def test_step_help_imports_no_operation() -> None:
    code = (
        "import sys\n"
        "from iib_steps.cli import app\n"
        "try:\n    app(['add', '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('iib_steps.operations.common', 'requests', 'operator_manifest')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out
    assert "--from-index" in out


def test_status_env_names_match_the_reporter() -> None:
    from iib_steps import report
    from iib_steps.commands import build_cmds

    assert (build_cmds.URL_ENV, build_cmds.REQUEST_ID_ENV) == (report.URL_ENV, report.REQUEST_ID_ENV)


def test_every_command_is_reached() -> None:
    assert {"catalog", "image", "add", "rm", "tekton", "demo", "report"} <= set(
        main_group.list_commands(None)
    )
    assert len(COMMAND_PATHS) >= len(COMMANDS) + len(CATALOG_COMMANDS)
    assert all(load(lazy.target) is not None for lazy in (*COMMANDS.values(), *CATALOG_COMMANDS.values()))


@pytest.mark.parametrize("group", [[], ["catalog"], ["tekton"], ["image"], ["demo"]], ids=" ".join)
def test_group_help_offers_no_shell_completion(group: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run([*group, "--help"], capsys)
    assert rc == 0
    assert "--install-completion" not in out
    assert max(len(line) for line in out.splitlines()) <= 80
