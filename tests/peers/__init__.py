"""Peer conformance suites: other projects' tests, adapted and run against this app."""
