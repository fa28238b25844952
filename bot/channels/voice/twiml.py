"""TwiML documents for the call, built with the SDK's VoiceResponse (no hand-written XML).

TwiML is what this channel speaks back, as HTML is the web channel's: it belongs to the channel, and only the
twilio SDK's document builder is used here (never its REST client, which stays in telephony/).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from bot.language import Language

# <Gather> speech recognition codes (zh-CN is not a Gather code) and <Say> language codes.
GATHER_LANGUAGE: dict[Language, str] = {"zh": "cmn-Hans-CN", "en": "en-US"}
SAY_LANGUAGE: dict[Language, str] = {"zh": "cmn-CN", "en": "en-US"}


@dataclass(frozen=True)
class Voice:
    """How the call speaks in one language."""

    language: Language
    voice: str

    def say(self, node: VoiceResponse | Gather, text: str) -> None:
        node.say(text, voice=self.voice, language=SAY_LANGUAGE[self.language])


def gather(texts: Sequence[str], *, voice: Voice, action_url: str, hints: str) -> str:
    """Speak, then listen; silence also posts to `action_url` (actionOnEmptyResult) so we can reprompt."""
    response = VoiceResponse()
    node = Gather(
        input="speech",
        action=action_url,
        method="POST",
        language=GATHER_LANGUAGE[voice.language],
        speech_timeout="auto",
        action_on_empty_result=True,
        barge_in=True,
        hints=hints,
    )
    for text in texts:
        voice.say(node, text)
    response.append(node)
    return str(response)


def hangup(texts: Sequence[str], *, voice: Voice) -> str:
    """Speak, then end the call."""
    response = VoiceResponse()
    for text in texts:
        voice.say(response, text)
    response.hangup()
    return str(response)


def transfer(texts: Sequence[str], *, voice: Voice, number: str, caller_id: str | None, action_url: str) -> str:
    """Speak, then bridge to an advisor; `action_url` hears how the transfer went."""
    response = VoiceResponse()
    for text in texts:
        voice.say(response, text)
    dial = Dial(action=action_url, method="POST", timeout=20, caller_id=caller_id)
    dial.number(number)
    response.append(dial)
    return str(response)


def empty() -> str:
    """A valid, silent document (acknowledges a request that needs no speech)."""
    return str(VoiceResponse())
