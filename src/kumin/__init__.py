"""kumin (区民): secure analytics and registry security for Japanese ward offices."""

__version__ = "0.1.0"
