"""Widgets of the prdeck app."""
