"""Market data domain: value objects and pure rules, standard library only."""
