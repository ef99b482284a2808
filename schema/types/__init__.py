"""GraphQL object types, one module per domain. Table rows are mapped explicitly."""
