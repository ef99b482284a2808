"""Database access: the async engine, the unit of work and the table models."""
