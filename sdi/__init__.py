"""SDI: Service Decision Intelligence."""

__version__ = "0.1.0"
