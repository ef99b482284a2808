"""What stands between the network and the app: path and header guards, the
WebSocket protocol handler with its limits, and the HTTP protocol with read timeouts."""
