"""The storefront function: server-rendered pages for a company's business customers."""
