"""The low-stock mailer function: one email per order listing products now at or below threshold."""
