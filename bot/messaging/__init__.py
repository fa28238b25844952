"""Text messages (SMS) to clients: a small provider interface, Twilio as one adapter, and a service that
sends only with recorded consent, never to a do-not-contact number, and once per request."""
