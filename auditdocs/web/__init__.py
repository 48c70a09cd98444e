"""HTML blueprints, one module per area."""
