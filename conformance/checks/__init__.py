"""The checks, one module per area; each check is a short function with id, level and clauses."""
