"""A command group whose sub-commands are imported only when one of them runs.

``iib-step --help`` then imports nothing but typer: each entry names where its command lives
(``"module:attribute"`` or ``"module:attribute:command"``) and carries its one-line help, which the
group lists without importing the module. The attribute is a ``typer.Typer`` (turned into a click
command by typer) or a click command; ``:command`` picks one command of a Typer holding several.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup

# The command the last group resolved (the innermost one a user ran): lets the error handler name its
# options.
resolved: list[Any] = []


@dataclass(frozen=True, slots=True)
class Lazy:
    """Where a sub-command lives and its one-line help."""

    target: str
    help: str


def load(target: str) -> Any:
    """The click command at ``module:attribute[:command]``."""
    module, _, rest = target.partition(":")
    attribute, _, name = rest.partition(":")
    obj = getattr(importlib.import_module(module), attribute)
    command = typer.main.get_command(obj) if isinstance(obj, typer.Typer) else obj
    if name and hasattr(command, "commands"):
        command = command.commands[name]
    _plain_help(command)
    return command


def _plain_help(command: Any) -> None:
    """Help and errors as plain text (no rich boxes): readable at 80 columns, cheap to import."""
    if hasattr(command, "rich_markup_mode"):
        command.rich_markup_mode = None
    for sub in getattr(command, "commands", {}).values():
        _plain_help(sub)


class LazyGroup(TyperGroup):
    """A typer group whose commands come from ``lazy`` (name -> :class:`Lazy`) on first use."""

    def __init__(self, *, lazy: dict[str, Lazy], **attrs: Any) -> None:
        attrs.setdefault("rich_markup_mode", None)
        attrs.setdefault("suggest_commands", False)
        super().__init__(**attrs)
        self.lazy = lazy

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted({*self.lazy, *self.commands})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            command = load(self.lazy[cmd_name].target)
            self.commands[cmd_name] = command
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            name, command, rest = super().resolve_command(ctx, args)
        except typer.TyperException as exc:
            close = difflib.get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if close and hasattr(exc, "message"):
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {close[0]!r}?"
            raise
        resolved.append(command)
        return name, command, rest

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy:
                rows.append((name, self.lazy[name].help))
            else:
                command = self.commands[name]
                if not command.hidden:
                    rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
