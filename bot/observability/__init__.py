"""Observability: Prometheus metrics per app instance, JSON logs with personal data masked, request ids."""
