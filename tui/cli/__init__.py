"""The ``prdeck`` command line: no Textual here; the TUI loads only when it opens."""
