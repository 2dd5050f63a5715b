"""The dashboard function: server-rendered pages for a distributor's staff."""
