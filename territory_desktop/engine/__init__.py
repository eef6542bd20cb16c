"""Computation on arrays and graphs: balance, routing, travel, metrics. No files, no database, no Qt."""
