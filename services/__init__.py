"""Everything prdeck does to the world: GitHub, credentials, config. No UI code lives here."""

__version__ = "0.1.0"
