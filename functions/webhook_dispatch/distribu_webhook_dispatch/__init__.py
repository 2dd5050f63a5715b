"""The webhook dispatch function: fans events out to webhooks and delivers them."""
