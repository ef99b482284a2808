"""Running Jinlin as a service: metrics, request logs, health and readiness, backups."""
