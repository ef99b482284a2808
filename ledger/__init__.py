"""The double-entry core. Knows nothing of GraphQL; resolvers call its narrow API."""
