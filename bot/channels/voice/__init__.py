"""The voice channel: a campaign call is one more conversation through the dialogue gateway.

Everything here is the channel's side of a call, decided by role (what the call says and remembers),
not by vendor; the vendor side (placing calls, Twilio's request signature, the simulator) is telephony/.

views.py / webhook.py   the /voice webhooks; webhook.py is the accept-or-reject dependency every one uses
service.py              the conversation: each turn through Rasa, a failed turn a canned line (never a drop)
twiml.py / speech.py    what the caller hears: TwiML documents, chat text made speakable and short
models.py               the webhooks' typed forms (the channel's request bodies, as web/ and wecom/ have)
texts.py, voice_texts.yml, openings.py   the channel's own approved lines and the campaigns' approved openings
store.py                the call's state: which attempt is being called and what it achieved (CallStore)
offers.py               the link-offer interface the call needs (bot/advisor_links implements it)
runtime.py              builds the above once at start-up from injected settings

It imports telephony.signature (the check is Twilio's scheme, shared with the simulator that signs), never
the adapter that places calls: the dialer reaches that through campaigns' provider interface.
"""
