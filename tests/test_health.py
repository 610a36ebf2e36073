from __future__ import annotations


def test_healthz(client):
    response = client.get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_readyz(client):
    response = client.get("/readyz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})
