"""WeCom (企业微信): 微信客服 for external clients, a self-built app for the bank's advisors.

Public surface (pinned by tests/wecom/test_public_surface.py):
    router          the callback endpoint, GET/POST /channels/wecom/callback
    WeComRuntime    built with from_settings(), then start()/aclose() in the app's lifespan;
                    hand_off() moves a client to a human (for the dialogue layer)
    LeadsProvider   the hook the leads module implements for advisors' "my leads"
    ContactAddedHandler  the hook the advisor-links domain implements for friend-adds (add_external_contact)
"""

from bot.channels.wecom.external import ContactAddedHandler
from bot.channels.wecom.runtime import WeComRuntime
from bot.channels.wecom.staff import LeadsNotYetAvailable, LeadsProvider
from bot.channels.wecom.views import router

__all__ = ["ContactAddedHandler", "LeadsNotYetAvailable", "LeadsProvider", "WeComRuntime", "router"]
