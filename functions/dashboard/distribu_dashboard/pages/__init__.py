"""Dashboard pages, one module per area; templates live in a folder of the same name."""
