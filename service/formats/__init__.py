"""Presenters and parsers: pure functions between domain objects and a format."""
