"""Syndication: feeds (RSS, Atom, XML, JSON-LD) and schema.org JobPosting."""
