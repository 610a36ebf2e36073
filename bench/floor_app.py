"""The cheapest write the service's web stack can answer: gunicorn and Flask, a JSON body in and a
JSON body out, no token, no validation, no database. bench/write_path.py serves it with the same
gunicorn settings and load as the API, as the floor under the API's own figures."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/api/transactions")
def record():
    return jsonify(request.get_json()), 201
