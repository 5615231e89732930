"""eval stage of SDI."""
