"""KYC: the risk pre-assessment questionnaire (风险测评) and its scoring to C1–C5."""
