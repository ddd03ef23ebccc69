"""Plumbing: HTTP client wrapper, OData filter language, replay server. Not public API."""
