"""PostgreSQL (the pool, named SQL files, migrations, the embedded server, replicas, retries) and
the Redis analytics cache: everything that stores."""
