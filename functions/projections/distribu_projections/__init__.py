"""The projections function: read models (catalog index, sales rollups) kept from the table's stream."""
