"""Drafting: sources -> versioned prompt -> LLM backend -> citation check -> cited draft (why, ask, brief, talking points)."""
