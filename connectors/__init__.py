"""connectors stage of SDI."""
