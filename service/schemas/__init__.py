"""Marshmallow schemas: the wire contract. Create, update, read and query-argument
schemas are kept apart and map wire names to model names."""
