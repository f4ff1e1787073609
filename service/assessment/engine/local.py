"""Build an :class:`EvidenceBundle` from local paths (what ``skillcred assess`` reads).

- A directory must be a git repository: it becomes a ``repository`` item at its ``HEAD`` commit.
  Its digest is the SHA-256 of ``git ls-tree -r HEAD`` (modes, blob ids and paths), so it changes
  exactly when the committed tree does.
- A file becomes a ``text`` item when it is Markdown or plain text, else a ``file`` item; its text
  is decoded when the bytes are UTF-8 (HTML, JSON, code, ...). Media types come from the bytes and
  the name (sniffed, not trusted), never from the file system.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from service.assessment.engine.bundle import EvidenceBundle, EvidenceItem, EvidenceKind
from service.assessment.engine.embedded import EmbeddedContent, read_embedded
from service.assessment.engine.repository import RepositoryError, git, resolve_commit

MAX_FILE_BYTES = 8 * 1024 * 1024
_TEXT_TYPES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".txt": "text/plain",
    ".text": "text/plain",
    ".html": "text/html",
    ".htm": "text/html",
    ".csv": "text/csv",
    ".json": "application/json",
    ".rst": "text/x-rst",
    ".ipynb": "application/x-ipynb+json",
}
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
)


class LocalEvidenceError(ValueError):
    """A path cannot be used as evidence (missing, unreadable, too big, not a repository)."""


def sniff_media_type(data: bytes, name: str) -> tuple[str, str | None]:
    """``(media type, text or None)`` from the bytes first, then the name for text formats."""
    for signature, media_type in _SIGNATURES:
        if data.startswith(signature):
            return media_type, None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream", None
    if "\x00" in text:
        return "application/octet-stream", None
    suffix = Path(name).suffix.lower()
    if suffix in _TEXT_TYPES:
        return _TEXT_TYPES[suffix], text
    if text.lstrip()[:15].lower().startswith(("<!doctype html", "<html")):
        return "text/html", text
    return "text/plain", text


def file_item(path: Path, item_id: str, *, narrative: bool = True) -> EvidenceItem:
    """One local file as an evidence item: a Markdown or plain-text file is the earner's own
    account (kind ``text``) when ``narrative``, else a document they upload (kind ``file``), as the
    service stores a typed-in account and an uploaded file; anything else is a ``file``."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LocalEvidenceError(f"{item_id}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        data = path.read_bytes()
    except OSError as err:
        raise LocalEvidenceError(f"{item_id}: cannot read ({err.strerror or err})") from err
    media_type, text = sniff_media_type(data, path.name)
    kind: EvidenceKind = "text" if narrative and is_prose(media_type) else "file"
    return EvidenceItem(
        id=item_id,
        kind=kind,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        media_type=media_type,
        name=path.name,
        text=text,
        attributes={"file_name": path.name},
        embedded=EmbeddedContent() if text is not None else read_embedded(data, media_type),
    )


def repository_item(path: Path, item_id: str) -> EvidenceItem:
    """A local git repository as a ``repository`` item at HEAD."""
    try:
        commit = resolve_commit(path)
        tree = git(path, "ls-tree", "-r", "--full-tree", commit)
    except RepositoryError as err:
        raise LocalEvidenceError(f"{item_id}: not a git repository with a commit ({err})") from err
    return EvidenceItem(
        id=item_id,
        kind="repository",
        sha256=hashlib.sha256(tree).hexdigest(),
        size=len(tree),
        media_type="application/x-git",
        name=path.name,
        repository=path.resolve(),
        commit=commit,
        attributes={"commit": commit},
    )


def is_prose(media_type: str) -> bool:
    """Markdown or plain text: what an earner's own account of their work is written in."""
    return media_type in ("text/markdown", "text/plain")


def bundle_from_paths(paths: list[str]) -> EvidenceBundle:
    """The bundle for ``paths`` in the order given (ids are the paths as given; duplicates refused).
    The first Markdown or plain-text file is the earner's account (kind ``text``); later ones are
    documents (kind ``file``: a test plan, a report), as in the service, where the account is typed
    in and documents are uploaded."""
    if not paths:
        raise LocalEvidenceError("no evidence given")
    items: list[EvidenceItem] = []
    for raw in paths:
        path = Path(raw)
        if raw in {item.id for item in items}:
            raise LocalEvidenceError(f"{raw}: given twice")
        if path.is_dir():
            items.append(repository_item(path, raw))
        elif path.is_file():
            items.append(file_item(path, raw, narrative=not any(item.kind == "text" for item in items)))
        else:
            raise LocalEvidenceError(f"{raw}: no such file or directory")
    return EvidenceBundle(items=tuple(items))
