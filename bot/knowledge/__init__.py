"""Approved-content knowledge base: ingest, hybrid retrieval, grounded answers with citations.

Public surface: `KnowledgeService` (bot.knowledge.service) and the models in bot.knowledge.models.
Vendor SDKs stay in their adapters: chromadb in store.py, openai in llm.py,
sentence-transformers in embeddings.py.
"""
