"""prompts stage of SDI."""
