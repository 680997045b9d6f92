"""One module per Textual Screen; screens talk to ``services.previews`` only."""
