"""A first pass through the client pages."""

from tests import factories


def test_list_and_create(app, logged_in):
    response = logged_in.get("/clients/")
    assert response.status_code == 200
    assert b"SecretAlpha" in response.data
    assert b"SecretBeta" not in response.data
    response = logged_in.post("/clients/new", data=factories.intake_form_data())
    assert response.status_code == 302, response.data.decode()[:3000]
