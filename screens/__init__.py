"""One module per Textual Screen; screens talk to the facade (``prdeck.services.deck``) only."""
