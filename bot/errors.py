"""The project's own exception hierarchy; vendor errors are translated at the adapter boundary.

AdvisorError
├── ConfigError             bad or missing settings (raised at start-up, names the key)
├── InputError              a request we refuse (maps to 4xx)
└── ServiceUnavailable      an outside dependency is down or too slow (maps to 503 / a degraded reply)
    ├── DialogueUnavailable Rasa
    │   └── RateLimited     this sender (or web client address) sent too many turns; try again later
    ├── LLMUnavailable      the chat model
    ├── KnowledgeUnavailable the content store
    └── ChannelError        WeCom, Twilio, CRM
        └── ProviderUnavailableError  the call (or text) provider failed to place a call (or a text)
InputError
├── CallRefusedError        the provider cannot call this number (e.g. +86 on Twilio)
└── TextRefusedError        the text provider cannot (or may not) text this number
"""


class AdvisorError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(AdvisorError):
    """Settings are wrong; the message says which key and how to fix it."""


class InputError(AdvisorError):
    """A request that we refuse with a clear message."""


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
