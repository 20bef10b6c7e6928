"""decliner: withdraw from job interviews gracefully, exactly once."""

__version__ = "0.1.0"
