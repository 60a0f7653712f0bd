"""REST routes of the double, one module per API area."""
