"""The telephony vendor adapter: only what is truly Twilio's side of a call; the voice channel is bot/channels/voice/.

twilio_provider.py   places calls through Twilio's REST API, behind campaigns' CallProvider (bot/campaigns/provider.py)
factory.py           builds the configured provider (and its refusal rules, for planning without an account)
signature.py         X-Twilio-Signature: the channel checks it on every webhook, the simulator signs with it
simulator/           a local Twilio stand-in, a dev tool (`advisor telephony simulate`)
cli.py               `advisor telephony`: the simulator and one test call through the provider

It sits above campaigns (it implements their interface) and below the voice channel (which uses the signature
check), and never imports the channel.
"""
