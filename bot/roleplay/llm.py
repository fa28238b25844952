"""The LLM-voiced client and the LLM judge's plumbing: prompts, the chat-model seam, reply checks.

The chat model is the project's OpenAI-compatible adapter (bot.knowledge.llm.OpenAIChat, the one
module that imports openai), built from LLMSettings with role-play's own sampling. The scripted
engine still plans every turn; the LLM only voices the plan. A reply that fails (timeout, error,
empty, out of character, or giving away a need the advisor has not earned) is replaced by the
scripted line for that turn, so a session never stalls on the model.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import yaml

from bot.errors import ConfigError, LLMUnavailable
from bot.roleplay.engine import ClientState, Step
from bot.roleplay.personas import Persona
from bot.roleplay.schemas import TranscriptTurn
from bot.settings import LLMSettings, RoleplaySettings

logger = logging.getLogger(__name__)
Message = tuple[str, str]
LANGUAGE_NAMES = {"zh": "Simplified Chinese (简体中文)", "en": "English"}
_OUT_OF_CHARACTER = re.compile(
    r"\bAI\b|人工智能|语言模型|language model|as an assistant|作为(?:一个)?(?:AI|助手)|hidden need|隐藏需求",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[。！？!?.…]")


class ChatModel(Protocol):
    """Completes a chat; raises LLMUnavailable on timeout, error or an empty reply."""

    async def complete(self, messages: Sequence[Message]) -> str: ...

    async def aclose(self) -> None: ...


def build_chat_model(llm: LLMSettings, roleplay: RoleplaySettings) -> ChatModel | None:
    """The configured chat model, or None when no LLM is configured or role-play uses it for nothing."""
    if llm.provider is None or not (roleplay.use_llm or roleplay.judge):
        return None
    from bot.knowledge.llm import OpenAIChat

    return OpenAIChat(
        model=llm.model,
        base_url=llm.base_url,
        api_key=llm.api_key.get_secret_value() if llm.api_key else None,
        timeout_s=llm.timeout_s,
        temperature=roleplay.llm_temperature,
        max_tokens=roleplay.llm_max_tokens,
    )


class RoleplayPrompts:
    """The versioned templates in prompts/: roleplay.<v>.system.txt, .directions.yml, roleplay_judge.<v>.*."""

    def __init__(self, prompts_dir: Path, version: str) -> None:
        try:
            self.system = (prompts_dir / f"roleplay.{version}.system.txt").read_text(encoding="utf-8")
            directions = (prompts_dir / f"roleplay.{version}.directions.yml").read_text(encoding="utf-8")
            self.directions: dict[str, str] = yaml.safe_load(directions)
            self.judge_system = (prompts_dir / f"roleplay_judge.{version}.system.txt").read_text(encoding="utf-8")
            self.judge_user = (prompts_dir / f"roleplay_judge.{version}.user.txt").read_text(encoding="utf-8")
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(
                f"roleplay.prompt_version {version!r}: prompt files missing or invalid under {prompts_dir} ({exc})"
            ) from exc
        if "default" not in self.directions:
            raise ConfigError(f"roleplay.{version}.directions.yml needs a 'default' entry")


class PersonaVoice:
    """Voices the scripted engine's plan through the chat model, in character."""

    def __init__(self, model: ChatModel, prompts: RoleplayPrompts, *, max_chars: int) -> None:
        self._model = model
        self._prompts = prompts
        self._max_chars = max_chars

    async def speak(self, persona: Persona, state: ClientState, step: Step, history: Sequence[TranscriptTurn]) -> str:
        """The client's reply for ``step``; raises LLMUnavailable when the reply is unusable."""
        reply = await self._model.complete(self.messages(persona, state, step, history))
        return self.accept(persona, state, reply)

    def messages(
        self, persona: Persona, state: ClientState, step: Step, history: Sequence[TranscriptTurn]
    ) -> list[Message]:
        """System prompt (persona, earned needs, this turn's directions), then the conversation."""
        earned = [persona.need(n).description for n in state.uncovered]
        unearned = [n.description for n in persona.hidden_needs if n.id not in state.uncovered]
        system = self._prompts.system.format(
            name=persona.name,
            title=persona.title,
            age=persona.profile.age if persona.profile.age is not None else "unknown",
            occupation=persona.profile.occupation,
            summary=persona.profile.summary,
            facts="; ".join(persona.profile.facts) or "-",
            risk_level=persona.risk_level,
            secrets="\n".join(f"- {n.description}" for n in persona.hidden_needs),
            language_name=LANGUAGE_NAMES[persona.language],
            earned="; ".join(earned) or "none",
            unearned="; ".join(unearned) or "none",
            directions="\n".join(f"- {d}" for d in self.directions(persona, step)),
        )
        messages: list[Message] = [("system", system)]
        for turn in history:
            messages.append(("assistant" if turn.role == "client" else "user", turn.text))
        return messages

    def directions(self, persona: Persona, step: Step) -> list[str]:
        """One stage direction per planned beat, with the scripted line as an example."""
        out = []
        for beat, line in zip(step.beats, step.parts, strict=True):
            template = self._prompts.directions.get(beat.kind, self._prompts.directions["default"])
            need = persona.need(beat.ref).description if beat.kind in {"reveal", "hint", "guarded"} and beat.ref else ""
            objection = persona.objection(beat.ref).says[0] if beat.kind in {"accept", "escalate"} and beat.ref else ""
            out.append(template.format(line=line, need=need, objection=objection))
        return out

    def accept(self, persona: Persona, state: ClientState, reply: str) -> str:
        """Clean the reply, or refuse it (LLMUnavailable) if it breaks character or leaks a need."""
        label = re.compile(rf"^\s*(?:客户|client|customer|{re.escape(persona.name)})\s*[:：]\s*", re.IGNORECASE)
        text = label.sub("", reply.strip(), count=1).strip().strip('"“”「」').strip()
        if not text:
            raise LLMUnavailable("role-play model returned an empty reply")
        if _OUT_OF_CHARACTER.search(text):
            raise LLMUnavailable("role-play model stepped out of character")
        for need in persona.hidden_needs:
            if need.id not in state.uncovered and need.markers and re.search(need.markers, text, re.IGNORECASE):
                raise LLMUnavailable(f"role-play model revealed the unearned need {need.id!r}")
        return _shorten(text, self._max_chars)


def _shorten(text: str, limit: int) -> str:
    """Cut at the last sentence end within ``limit`` (hard cut if there is none)."""
    if len(text) <= limit:
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, limit)]
    return text[: ends[-1]] if ends else text[:limit]
