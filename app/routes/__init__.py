"""HTTP routes, one module per resource, each exposing a Router."""
