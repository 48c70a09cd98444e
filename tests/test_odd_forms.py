"""Forms that arrive broken get a clear answer, never "form expired": a file name that is not UTF-8, a body that
is not multipart at all."""

from __future__ import annotations

import io

from support import pdf

BOUNDARY = "odd-boundary"


def _part(name: str, value: bytes, filename: bytes | None = None) -> bytes:
    disposition = f'Content-Disposition: form-data; name="{name}"'.encode()
    if filename is not None:
        disposition += b'; filename="' + filename + b'"\r\nContent-Type: application/pdf'
    return b"--" + BOUNDARY.encode() + b"\r\n" + disposition + b"\r\n\r\n" + value + b"\r\n"


def test_a_file_name_that_is_not_utf8_gets_a_clear_message_in_spanish(app, client, login_as):
    rosa = login_as("quality_officer")
    client.post_form("/lang", {"lang": "es"}, page="/")
    fields = {"csrf_token": client.csrf_token("/documents/new"), "code": "PR-NAME-001", "title": "Acta",
              "kind": "procedure", "language": "es", "confidentiality": "normal", "owner": str(rosa.id),
              "review_interval_months": "12"}
    body = b"".join(_part(k, v.encode()) for k, v in fields.items())
    body += _part("file", pdf("acta"), filename="Acta de reunión".encode("cp1252") + b".pdf")
    body += b"--" + BOUNDARY.encode() + b"--\r\n"
    resp = client.post("/documents/new", input_stream=io.BytesIO(body),
                       content_type=f"multipart/form-data; boundary={BOUNDARY}")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "no es texto válido (UTF-8)" in text and "Cambie el nombre del archivo" in text
    assert "Formulario vencido" not in text


def test_a_body_that_is_not_multipart_is_a_clear_400(app, client, login_as):
    login_as("quality_officer")
    resp = client.post("/documents/new", input_stream=io.BytesIO(b"--" + BOUNDARY.encode() + b"\r\ngarbage"),
                       content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert resp.status_code == 400
    assert "The form arrived incomplete or damaged, so nothing was saved." in resp.get_data(as_text=True)
