"""Typed Twilio webhook forms: the voice channel's request bodies, read only by its webhooks (only the fields
we use; Twilio sends many more, which are ignored)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MACHINE_PREFIX = "machine_"


class VoiceForm(BaseModel):
    """Fields every voice webhook request carries."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    call_sid: str = Field(alias="CallSid", min_length=2, max_length=64)
    account_sid: str | None = Field(default=None, alias="AccountSid")
    from_: str | None = Field(default=None, alias="From")
    to: str | None = Field(default=None, alias="To")
    call_status: str | None = Field(default=None, alias="CallStatus")
    direction: str | None = Field(default=None, alias="Direction")


class AnswerForm(VoiceForm):
    """The answer webhook; with synchronous AMD it says who picked up."""

    answered_by: str | None = Field(default=None, alias="AnsweredBy")

    @property
    def is_machine(self) -> bool:
        """machine_start / machine_end_* and fax get the voicemail script; unknown is treated as a person."""
        value = self.answered_by or ""
        return value.startswith(MACHINE_PREFIX) or value == "fax"


class GatherForm(VoiceForm):
    """The <Gather> action: what the caller said (empty on silence, thanks to actionOnEmptyResult)."""

    speech_result: str = Field(default="", alias="SpeechResult", max_length=2000)
    confidence: float | None = Field(default=None, alias="Confidence")


class DialForm(VoiceForm):
    """The <Dial> action after a transfer attempt."""

    dial_call_status: str | None = Field(default=None, alias="DialCallStatus")


class StatusForm(VoiceForm):
    """A status callback (initiated, ringing, answered, completed and the final outcomes)."""

    call_status: str = Field(alias="CallStatus")
    answered_by: str | None = Field(default=None, alias="AnsweredBy")
    call_duration: int | None = Field(default=None, alias="CallDuration", ge=0)
    sequence_number: int | None = Field(default=None, alias="SequenceNumber", ge=0)
