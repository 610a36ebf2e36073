"""The background worker: a door beside the REST API that runs jobs (worker/jobs.py) on a short
tick through the same services. `expense-api worker` runs it; `expense-api serve` starts one
beside gunicorn unless WORKER=off (worker/process.py)."""
