def test_login_page(client):
    resp = client.get("/login")
    assert resp.status_code == 200
    assert b"csrf_token" in resp.data


def test_dashboard_after_login(client, login_as):
    login_as("admin")
    resp = client.get("/")
    assert resp.status_code == 200
    assert b"ISO 9001:2015" in resp.data
