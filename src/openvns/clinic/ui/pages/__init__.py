"""Page routers, one module per domain."""
