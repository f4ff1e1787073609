"""The blob store: content-addressed, written atomically, one blob for the same bytes."""

import hashlib
import os

import pytest

from service.core.config import Settings
from service.evidence.blobstore import (
    BlobCorrupted,
    BlobNotFound,
    BlobStore,
    LocalBlobStore,
    get_blob_store,
)


def test_a_blob_is_named_by_the_sha256_of_its_bytes_and_read_back(tmp_path):
    store = LocalBlobStore(tmp_path)
    digest = store.put(b"hello evidence")
    assert digest == hashlib.sha256(b"hello evidence").hexdigest()
    assert store.exists(digest) and store.get(digest) == b"hello evidence"
    assert (tmp_path / digest[:2] / digest[2:4] / digest).is_file()  # sharded folders
    assert isinstance(store, BlobStore)


def test_the_same_bytes_twice_are_one_blob(tmp_path):
    store = LocalBlobStore(tmp_path)
    assert store.put(b"same") == store.put(b"same")
    assert [d for d, _ in store.digests()] == [hashlib.sha256(b"same").hexdigest()]


def test_putting_existing_bytes_again_refreshes_their_time(tmp_path):
    store = LocalBlobStore(tmp_path)
    digest = store.put(b"again")
    path = tmp_path / digest[:2] / digest[2:4] / digest
    os.utime(path, (1_000_000, 1_000_000))
    store.put(b"again")
    assert dict(store.digests())[digest] > 1_000_000


def test_writes_leave_no_temporary_files_behind(tmp_path):
    store = LocalBlobStore(tmp_path)
    for n in range(5):
        store.put(bytes([n]) * 1000)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    store = LocalBlobStore(tmp_path)

    def broken_replace(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        store.put(b"never stored")
    assert list(store.digests()) == [] and list((tmp_path / "tmp").iterdir()) == []


def test_a_missing_or_tampered_blob_is_an_error_not_wrong_bytes(tmp_path):
    store = LocalBlobStore(tmp_path)
    with pytest.raises(BlobNotFound):
        store.get("0" * 64)
    digest = store.put(b"original")
    (tmp_path / digest[:2] / digest[2:4] / digest).write_bytes(b"tampered")
    with pytest.raises(BlobCorrupted):
        store.get(digest)


@pytest.mark.parametrize("digest", ["../../etc/passwd", "A" * 64, "0" * 63, "", "0" * 64 + "/x"])
def test_a_digest_is_never_a_path(tmp_path, digest):
    store = LocalBlobStore(tmp_path)
    with pytest.raises(ValueError):
        store.get(digest)
    with pytest.raises(ValueError):
        store.exists(digest)


def test_delete_removes_a_blob_and_is_quiet_when_it_is_gone(tmp_path):
    store = LocalBlobStore(tmp_path)
    digest = store.put(b"bye")
    store.delete(digest)
    store.delete(digest)
    assert not store.exists(digest)


def test_one_store_per_folder(tmp_path):
    first = get_blob_store(Settings(blob_dir=tmp_path / "a"))
    assert get_blob_store(Settings(blob_dir=tmp_path / "a")) is first
    assert get_blob_store(Settings(blob_dir=tmp_path / "b")) is not first
    assert Settings().blob_dir.as_posix() == "var/blobs"
