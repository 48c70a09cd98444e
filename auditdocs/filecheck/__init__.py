"""Upload validation: names, extensions and content, refused with a clear, translatable message before any
parser touches the file."""

from .content import MIME_TYPES, sniff
from .names import DEFAULT_ALLOWED, MAX_NAME_LENGTH, check_name, display_name, extension_of
from .rejection import UploadRejected

__all__ = ["DEFAULT_ALLOWED", "MAX_NAME_LENGTH", "MIME_TYPES", "UploadRejected", "check_name", "display_name",
           "extension_of", "sniff"]
