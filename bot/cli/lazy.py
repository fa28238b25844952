"""Sub-commands imported only when run, so `advisor --help` and light commands start in a fraction of a second.

Each domain's CLI module pulls in its stack (Chroma, numpy, SQLAlchemy, the Twilio SDK...): seconds
of imports. The top-level group lists them from this registry, with their one-line help written here,
and imports a module only when its command is actually invoked (or its own --help is asked for).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:  # typer vendors click; its classes are what TyperGroup works with
    from typer._click import Command, Context, HelpFormatter


@dataclass(frozen=True)
class Lazy:
    """`target` is "module:attribute": a Typer app (a command group) or a command function."""

    target: str
    help: str


# The domain command groups and commands, in the order `advisor --help` lists them.
LAZY: dict[str, Lazy] = {
    "ask": Lazy("bot.knowledge.cli:ask", "Answer a question from the approved content / 按已审批内容回答问题."),
    "kb": Lazy("bot.knowledge.cli:kb_app", "Approved content: ingest and search."),
    "compliance": Lazy("bot.compliance.cli:compliance_app", "The compliance guard every reply passes."),
    "campaign": Lazy(
        "bot.campaigns.cli:campaign_app", "Outbound reactivation campaigns / 外呼唤醒活动: import, plan, dial, measure."
    ),
    "telephony": Lazy("telephony.cli:telephony_app", "Outbound voice (Twilio) / 外呼语音: simulator, a test call."),
    "wecom": Lazy(
        "bot.advisor_links.cli:wecom_app", "WeCom (企业微信): advisors' links, the link offer, a local simulator."
    ),
    "console": Lazy("bot.console.cli:console_app", "Operations console (/console): users and API keys."),
    "roleplay": Lazy("bot.roleplay.cli:roleplay_app", "Advisor training role-play (AI 陪练): practise and get scored."),
}


def load(name: str, entry: Lazy) -> Command:
    """Import the module and build its click command under `name`."""
    module_name, _, attribute = entry.target.partition(":")
    target = getattr(importlib.import_module(module_name), attribute)
    if isinstance(target, typer.Typer):
        # One look for every sub-command's help (plain, like the top level); get_group, not get_command:
        # shell-completion options belong to the top level only (and would import pydantic to parse).
        target.rich_markup_mode = None
        command: Command = typer.main.get_group(target)
    else:
        single = typer.Typer(rich_markup_mode=None, add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyGroup(TyperGroup):
    """The top-level group: its own commands plus the LAZY ones, imported on first use."""

    def list_commands(self, ctx: Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in LAZY if n not in self.commands)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY:
            self.commands[cmd_name] = load(cmd_name, LAZY[cmd_name])
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        """Help rows from the registry for commands not imported yet (listing must not import them)."""
        rows = [(name, cmd.get_short_help_str(200)) for name, cmd in self.commands.items() if not cmd.hidden]
        rows += [(name, entry.help) for name, entry in LAZY.items() if name not in self.commands]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
