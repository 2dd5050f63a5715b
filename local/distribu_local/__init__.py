"""The embedded local AWS: Distribu's template brought up on moto, served on one machine."""
