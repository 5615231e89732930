"""retrieval stage of SDI."""
