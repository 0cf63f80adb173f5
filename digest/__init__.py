"""digest: turn a plain-text newsletter issue into a ready-to-send email."""

__version__ = "0.1.0"
