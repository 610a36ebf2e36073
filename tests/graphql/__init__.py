"""The GraphQL door: parity with REST, limits, roles, fuzzing, races."""
