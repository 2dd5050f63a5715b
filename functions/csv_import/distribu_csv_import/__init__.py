"""The CSV import function: S3 upload notifications (through SQS) -> preview and apply."""
