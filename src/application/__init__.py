"""Use cases and the ports they talk to; imports only the domain."""
