"""events-gateway: one GraphQL request for the Secoda Events hierarchy, answered in few REST calls."""

__version__ = "0.1.0"
