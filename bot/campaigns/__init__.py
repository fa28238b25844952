"""Outbound reactivation campaigns: import, eligibility, segments, experiment, plan, dialer, report."""
