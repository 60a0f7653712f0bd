"""REST routes of the double, one module per API area: parse the request, call the rules, shape the answer."""
