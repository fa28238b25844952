"""The call-provider seam, re-exported for the vendor adapters: its home is bot/campaigns/provider.py
(the interface belongs to its consumer, so campaigns never import telephony)."""

from bot.campaigns.provider import CallProvider, CallRequest, PlacedCall

__all__ = ["CallProvider", "CallRequest", "PlacedCall"]
