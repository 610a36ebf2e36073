"""Running it: the two commands, deployment, cluster, logs, settings, docs, benchmarks' scripts and the architecture's rules."""
