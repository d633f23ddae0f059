"""The HTTP layer: FastAPI application, dependencies, problem documents, routes and templates."""
