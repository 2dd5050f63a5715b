"""The `distribu` admin command line."""
