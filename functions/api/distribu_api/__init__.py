"""The REST API function: FastAPI routers behind API Gateway, through Mangum."""
