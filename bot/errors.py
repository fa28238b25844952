"""The project's own exception hierarchy; vendor errors are translated at the adapter boundary.

AdvisorError
├── ConfigError             bad or missing settings (raised at start-up, names the key)
│   └── RulesFileError      compliance rules.yml is missing a key or holds a bad regex
├── InputError              a request we refuse; `status_code` is its HTTP status (422), mapped once
│   ├── NotFound            what the request names does not exist (404)
│   └── Conflict            the request contradicts the current state (409)
└── ServiceUnavailable      an outside dependency is down or too slow (maps to 503 / a degraded reply)
    ├── DialogueUnavailable Rasa
    │   └── RateLimited     this sender (or web client address) sent too many turns; try again later
    ├── LLMUnavailable      the chat model
    ├── KnowledgeUnavailable the content store
    └── ChannelError        WeCom, Twilio, CRM
        └── ProviderUnavailableError  the call (or text) provider failed to place a call (or a text)
InputError
├── CallRefusedError        the provider cannot call this number (e.g. +86 on Twilio)
├── TextRefusedError        the text provider cannot (or may not) text this number
├── CallbackRejected        a WeCom callback refused before any work (bot/channels/wecom/errors.py)
└── Rejected                a voice webhook refused before any work (bot/channels/voice/webhook.py)
Domains subclass these (leads' LeadNotFound is a NotFound, TransitionNotAllowed a Conflict); the app's
one handler (bot/error_handlers.py) turns any InputError that reaches it into its status and error shape.
"""


class AdvisorError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(AdvisorError):
    """Settings are wrong; the message says which key and how to fix it."""


class InputError(AdvisorError):
    """A request that we refuse with a clear message."""

    status_code: int = 422


class NotFound(InputError):
    """What the request names (a lead, a campaign, a session) does not exist."""

    status_code = 404


class Conflict(InputError):
    """The request contradicts the current state (a lead's life cycle, an ended session)."""

    status_code = 409


class ServiceUnavailable(AdvisorError):
    """An outside dependency failed; callers degrade instead of crashing."""


class DialogueUnavailable(ServiceUnavailable):
    """The Rasa server cannot be reached or answered with an error."""


class RateLimited(DialogueUnavailable):
    """Too many turns from one sender or address; `message` is the bilingual reply to show."""

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_s = retry_after_s


class LLMUnavailable(ServiceUnavailable):
    """The chat model timed out, failed, or returned something unusable."""


class KnowledgeUnavailable(ServiceUnavailable):
    """The content store cannot be queried."""


class ChannelError(ServiceUnavailable):
    """A channel vendor (WeCom, Twilio) or the CRM failed."""


class CallRefusedError(InputError):
    """The call provider cannot call this number; the message says why."""


class TextRefusedError(InputError):
    """The text-message provider cannot or may not text this number; the message says why."""


class ProviderUnavailableError(ChannelError):
    """The call provider failed or timed out while placing a call."""
