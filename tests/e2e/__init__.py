"""Browser tests (marked ``e2e``)."""
