"""The database layer: pool, pipeline, replicas, retries, round trips, SQL, migrations, outages."""
