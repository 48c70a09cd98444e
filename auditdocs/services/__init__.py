"""Business operations: validate, change, record the audit event, flush — the caller commits."""


class ServiceError(Exception):
    """A refusal the user can understand; `message` is already translated or lazily translatable."""

    status = 400

    def __init__(self, message: object, status: int | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        if status is not None:
            self.status = status


class Forbidden(ServiceError):
    """The user may see the object but not do this to it."""

    status = 403
