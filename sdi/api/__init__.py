"""The SDI app: REST API (FastAPI), the role and scope rules, the LLM work queue and the offline web UI."""
