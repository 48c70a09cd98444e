"""Certificate pages of the programme blueprint: register one (with its file), correct it, add files, download.

Files stream into the store while the form is parsed (as document uploads do) and are checked like any evidence;
the fields are checked first, so a typo costs no upload check. Downloads are always attachments, verified against
their hash, and each leaves an access receipt.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from ..db import write_transaction
from ..extensions import db
from ..models import Certificate
from ..services import ServiceError, uploads
from ..services import certificates as certs
from ..services.uploads import Checked
from ..timeutil import local_today
from .blobs import send_blob
from .errors import note_refusal
from .programme_forms import CertificateFileForm, CertificateForm, invalid, manages, refused
from .security import actor, require
from .upload_stream import incoming, streaming_upload

for _endpoint in ("programme.new_certificate", "programme.add_certificate_file"):
    streaming_upload(_endpoint)


def add_routes(bp: Blueprint) -> None:
    """Attach the certificate pages to the programme blueprint (endpoints `programme.<view>`)."""
    bp.add_url_rule("/certificates/new", view_func=new_certificate, methods=["GET", "POST"])
    bp.add_url_rule("/certificates/<int:certificate_id>", view_func=certificate)
    bp.add_url_rule("/certificates/<int:certificate_id>/edit", view_func=edit_certificate, methods=["GET", "POST"])
    bp.add_url_rule("/certificates/<int:certificate_id>/files", view_func=add_certificate_file, methods=["POST"])
    bp.add_url_rule("/certificates/<int:certificate_id>/files/<int:attachment_id>", view_func=certificate_file)


def _input(form: CertificateForm) -> certs.CertificateInput:
    return certs.CertificateInput(number=form.number.data, scope_key=form.scope.data, body=form.body.data,
                                  issued_on=form.issued_on.data, expires_on=form.expires_on.data)


def _file_refused(form: CertificateForm | CertificateFileForm, exc: ServiceError, template: str,
                  **ctx: Any) -> ResponseReturnValue:
    """The file was refused (type, content, size): say so at the file field."""
    form.file.errors = [*form.file.errors, str(exc.message)]
    return render_template(template, form=form, **ctx), exc.status


@require("manage_programme")
def new_certificate() -> ResponseReturnValue:
    """Register a certificate, with its file if the person has it at hand."""
    form = CertificateForm()
    template = "programme/certificate_edit.html"
    if not form.is_submitted():
        return render_template(template, form=form, cert=None)
    if not form.validate():
        return invalid(form, template, cert=None)
    data, file = _input(form), form.file.data
    try:
        certs.check_certificate(data)
        if not isinstance(file, FileStorage) or not file.filename:
            with write_transaction():
                cert_id = certs.create_certificate(data, actor=actor()).id
        else:
            try:
                checked = uploads.check_upload(incoming(file))
            except ServiceError as exc:
                return _file_refused(form, exc, template, cert=None)

            def write(checked: Checked) -> int:
                cert = certs.create_certificate(data, actor=actor())
                certs.attach_file(cert, checked, actor=actor())
                return cert.id

            cert_id = uploads.ingest_checked(checked, write)
    except ServiceError as exc:
        return refused(exc, form, template, cert=None)
    flash(_("Certificate registered."), "success")
    return redirect(url_for("programme.certificate", certificate_id=cert_id))


def _page(cert: Certificate, file_form: CertificateFileForm | None = None) -> str:
    today = local_today()
    return render_template("programme/certificate.html", cert=cert, files=certs.files_of(cert),
                           cycle=certs.cycle_of(cert, today), today=today, manages=manages(),
                           file_form=file_form or CertificateFileForm())


def certificate(certificate_id: int) -> ResponseReturnValue:
    """A certificate: details, its files (the newest is current), its cycle's audits."""
    return _page(db.get_or_404(Certificate, certificate_id))


@require("manage_programme")
def edit_certificate(certificate_id: int) -> ResponseReturnValue:
    """Correct a certificate's number, scope, body or dates."""
    cert = db.get_or_404(Certificate, certificate_id)
    form = CertificateForm(obj=cert)
    del form.file
    template = "programme/certificate_edit.html"
    if not form.is_submitted():
        form.scope.data = cert.scope.key
        return render_template(template, form=form, cert=cert)
    if not form.validate():
        return invalid(form, template, cert=cert)
    try:
        with write_transaction():
            changed = certs.update_certificate(cert, _input(form), actor=actor())
    except ServiceError as exc:
        return refused(exc, form, template, cert=cert)
    flash(_("Certificate saved.") if changed else _("Nothing to change."), "success" if changed else "info")
    return redirect(url_for("programme.certificate", certificate_id=certificate_id))


@require("manage_programme")
def add_certificate_file(certificate_id: int) -> ResponseReturnValue:
    """Add a file to the certificate (a renewed or corrected copy); earlier files stay listed."""
    cert = db.get_or_404(Certificate, certificate_id)
    form = CertificateFileForm()
    if not form.validate_on_submit():
        flash(_("Choose a file to upload."), "danger")
        return _page(cert, form), 400
    try:
        uploads.ingest(incoming(form.file.data), lambda checked: certs.attach_file(cert, checked, actor=actor()).id)
    except ServiceError as exc:
        if exc.status == 403:
            note_refusal(403)
        form.file.errors = [*form.file.errors, str(exc.message)]
        return _page(cert, form), exc.status
    flash(_("File added to the certificate."), "success")
    return redirect(url_for("programme.certificate", certificate_id=certificate_id))


def certificate_file(certificate_id: int, attachment_id: int) -> ResponseReturnValue:
    """Download a certificate file: always an attachment, verified against its hash, with an access receipt."""
    cert = db.get_or_404(Certificate, certificate_id)
    row = certs.file_of(cert, attachment_id)
    if row is None:
        abort(404)
    sha, size, name, mime = row.sha256, row.size, row.original_filename, row.mime_type

    def receipt() -> None:
        with write_transaction():
            certs.record_download(cert, row, actor())

    return send_blob(sha, size, name, mime, before_send=receipt)
