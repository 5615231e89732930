"""LLM backends behind one seam; `registry.load_backend(spec)` is the only swap point."""
