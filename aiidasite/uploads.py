"""What clients may send: request and file sizes, and well-named multipart parts.

Django drops a multipart part whose name is missing, empty or not UTF-8, or
whose file name leaves no file name (``..``, ``/``), and carries on; an
upload would then succeed without the file. Here such a part refuses the
request, and sizes past the settings answer 413:

- ``AIIDASITE_UPLOAD_MAX_REQUEST_BYTES``: a request body (its Content-Length),
  checked before anything is read;
- ``AIIDASITE_UPLOAD_MAX_FILE_BYTES``: one uploaded file, checked as it
  arrives.
"""

from __future__ import annotations

import html
import tempfile
from collections.abc import Callable, Iterator
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import (
    ChunkIter,
    InterBoundaryIter,
    LazyStream,
    exhaust,
)
from django.utils.http import parse_header_parameters

from aiidasite import parameters
from aiidasite.exceptions import InputValidationError, RequestTooLarge

MIB = 1024 * 1024
# Longest header block of one part that is read (Django reads 1,024 bytes).
MAX_PART_HEADER = 64 * 1024
# Bodies up to this size are checked in memory, larger ones in a temporary file.
SPOOL_BYTES = 2 * MIB


def too_large(what: str, limit: int) -> RequestTooLarge:
    return RequestTooLarge(
        f"{what} is larger than this site accepts ({limit // MIB} MiB at most)"
        if limit >= MIB
        else f"{what} is larger than this site accepts ({limit} bytes at most)"
    )


class RequestSizeMiddleware:
    """Answer 413 to a body longer than ``AIIDASITE_UPLOAD_MAX_REQUEST_BYTES``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.AIIDASITE_UPLOAD_MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            error = too_large("the request body", limit)
            return JsonResponse({"detail": str(error)}, status=error.status_code)
        return self.get_response(request)


class FileSizeLimitHandler(FileUploadHandler):
    """Refuse an uploaded file past ``AIIDASITE_UPLOAD_MAX_FILE_BYTES``.

    Listed first in ``FILE_UPLOAD_HANDLERS``: it counts and passes every chunk
    on to Django's handlers, which store the file.
    """

    def new_file(self, field_name: str, file_name: str, *args: Any, **kw: Any) -> None:
        super().new_file(field_name, file_name, *args, **kw)
        self.limit = settings.AIIDASITE_UPLOAD_MAX_FILE_BYTES
        self.received = 0
        if self.content_length is not None and self.content_length > self.limit:
            raise too_large(f"the file {field_name!r}", self.limit)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            raise too_large(f"the file {self.field_name!r}", self.limit)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def part_headers(stream: IO[bytes], boundary: bytes) -> Iterator[bytes]:
    """The raw header block of each part of a multipart body."""
    parts = InterBoundaryIter(LazyStream(ChunkIter(stream)), b"--" + boundary)
    for part in parts:
        head = part.read(MAX_PART_HEADER)
        end = head.find(b"\r\n\r\n")
        exhaust(part)
        # The preamble and the closing "--" have no header block.
        if end > 0:
            yield head[:end]
        elif head.strip() not in (b"", b"--"):
            raise InputValidationError("a multipart part has no readable header")


def usable_file_name(filename: str) -> bool:
    """False for a part's file name that Django would drop the file for
    (``..``, ``/``, a folder) or change (control characters such as NUL)."""
    if any(ord(char) < 32 or ord(char) == 127 for char in filename):
        return False
    # What Django keeps of it: the last part of a path, entities decoded.
    base = html.unescape(filename).rsplit("/")[-1].rsplit("\\")[-1]
    return "".join(char for char in base if char.isprintable()) not in ("", ".", "..")


def part_name(header: bytes) -> str:
    """The field name a part's Content-Disposition gives.

    :raises InputValidationError: no Content-Disposition, a name that is not
        UTF-8, an empty name, or a file name that names no file
        (:func:`usable_file_name`).
    """
    for line in header.split(b"\r\n"):
        key, _, value = line.partition(b":")
        if key.strip().lower() != b"content-disposition":
            continue
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            raise InputValidationError(
                "a multipart part's field name is not UTF-8"
            ) from None
        params = parse_header_parameters(text)[1]
        name = params.get("name", "").strip()
        if not name:
            raise InputValidationError("a multipart part has an empty field name")
        filename = params.get("filename")
        if filename and not usable_file_name(filename):
            raise InputValidationError(
                f"the file name {filename!r} of the part {name!r} is not a file "
                "name: give the file's own name"
            )
        return name
    raise InputValidationError("a multipart part has no field name")


class StrictMultiPartParser(parameters.MultiPartParser):
    """The site's multipart parser (undocumented keys refused), refusing also
    parts Django would drop silently."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None):
        boundary = parse_header_parameters(media_type or "")[1].get("boundary", "")
        if stream is None or not boundary:
            return super().parse(stream, media_type, parser_context)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as copy:
            for chunk in ChunkIter(stream):
                copy.write(chunk)
            copy.seek(0)
            for header in part_headers(copy, boundary.encode("ascii", "replace")):
                part_name(header)
            copy.seek(0)
            return super().parse(copy, media_type, parser_context)
