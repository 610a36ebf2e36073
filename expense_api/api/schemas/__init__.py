"""marshmallow schemas: what comes in (validated) and what goes out (shaped), per resource."""
