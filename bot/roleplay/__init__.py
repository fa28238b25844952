"""Advisor training (AI 陪练): role-play clients, scored with the production compliance guard.

Layout: personas/*.yml (the clients), moves.yml (advisor moves the NLU recognises), replies.yml
(default client lines), rubric.yml (weights and notes); personas.py, nlu.py, engine.py (scripted
client), llm.py + judge.py (LLM voice and comments), scoring.py, models.py + store.py (history),
service.py, views.py (`router`: /training and /api/training/...), cli.py (`roleplay_app`).
"""
