"""Use cases: what each query, mutation and subscription does. Knows nothing of HTTP."""
