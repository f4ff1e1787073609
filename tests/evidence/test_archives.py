"""Archives are inspected in memory, never unpacked: bombs, traversal, links and deep nesting are
refused with a stable code; what passes can be listed and its small text members read."""

import gzip
import io
import zipfile

import pytest

from service.evidence.archives import (
    ArchiveLimits,
    ArchiveRefused,
    inspect_archive,
    list_archive,
    read_text_members,
)
from tests.evidence.archive_samples import (
    MIB,
    encrypted_zip,
    gzip_bomb,
    lying_zip,
    make_tar_gz,
    make_zip,
    make_zip_with,
    symlink_zip,
    zip_bomb,
)

LIMITS = ArchiveLimits(max_entries=20, max_total_bytes=2 * MIB, max_ratio=50, max_depth=1)


def refused(data: bytes, limits: ArchiveLimits = LIMITS) -> str:
    with pytest.raises(ArchiveRefused) as caught:
        inspect_archive(data, limits)
    return caught.value.code


def test_an_honest_zip_is_listed_and_its_small_text_members_read():
    data = make_zip(
        {
            "README.md": "# Project\n",
            "src/": b"",
            "src/app.py": "print('hi')\n",
            "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00",
            "big.txt": "x" * 5000,
        }
    )
    entries = list_archive(data, LIMITS)
    assert [(e.name, e.size, e.is_dir) for e in entries] == [
        ("README.md", 10, False),
        ("src/", 0, True),
        ("src/app.py", 12, False),
        ("logo.png", 10, False),
        ("big.txt", 5000, False),
    ]
    texts = read_text_members(data, LIMITS, max_member_bytes=1000)
    assert texts == {"README.md": "# Project\n", "src/app.py": "print('hi')\n"}


def test_reading_text_members_stops_at_the_total_and_count_caps():
    data = make_zip({f"note{n}.txt": f"note {n}\n" for n in range(10)})
    assert len(read_text_members(data, LIMITS, max_members=3)) == 3
    assert len(read_text_members(data, LIMITS, max_total_bytes=16)) == 2


def test_a_zip_bomb_is_refused():
    assert refused(zip_bomb(3 * MIB)) == "archive_too_large"
    assert refused(zip_bomb(int(1.5 * MIB))) == "archive_ratio"


def test_a_zip_whose_headers_lie_about_sizes_is_refused():
    assert refused(lying_zip()) == "archive_broken"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("../evil.sh", "archive_path_traversal"),
        ("docs/../../evil.sh", "archive_path_traversal"),
        ("..\\evil.bat", "archive_path_traversal"),
        ("/etc/cron.d/evil", "archive_absolute_path"),
        ("\\windows\\evil", "archive_absolute_path"),
        ("C:\\evil.exe", "archive_absolute_path"),
    ],
)
def test_entry_names_that_escape_are_refused(name, code):
    assert refused(make_zip({name: "x"})) == code


def test_links_and_special_files_are_refused():
    assert refused(symlink_zip()) == "archive_symlink"
    fifo = zipfile.ZipInfo("pipe")
    fifo.create_system = 3
    fifo.external_attr = 0o010644 << 16
    assert refused(make_zip_with(fifo)) == "archive_special_file"


def test_encrypted_entries_are_refused():
    assert refused(encrypted_zip()) == "archive_encrypted"


def test_too_many_entries_and_duplicates_are_refused():
    assert refused(make_zip({f"f{n}.txt": "x" for n in range(21)})) == "archive_too_many_entries"
    buffer = io.BytesIO(make_zip_with(zipfile.ZipInfo("a.txt")))
    with zipfile.ZipFile(buffer, "a") as archive, pytest.warns(UserWarning):
        archive.writestr("a.txt", "again")
    assert refused(buffer.getvalue()) == "archive_duplicate_entry"


def test_one_level_of_nesting_is_inspected_and_a_second_is_refused():
    inner = make_zip({"inner.txt": "inside"})
    entries = inspect_archive(make_zip({"inner.zip": inner}), LIMITS)
    assert entries[0].is_archive
    assert refused(make_zip({"inner.zip": make_zip({"../escape": "x"})})) == "archive_path_traversal"
    assert refused(make_zip({"a.zip": make_zip({"b.zip": inner})})) == "archive_nested"
    assert refused(make_zip({"inner.zip": inner}), ArchiveLimits(max_depth=0)) == "archive_nested"


def test_a_bomb_nested_inside_is_counted_against_the_same_budget():
    assert refused(make_zip({"inner.zip": zip_bomb(3 * MIB)}, compression=zipfile.ZIP_STORED)) == "archive_too_large"


def test_archives_of_kinds_that_cannot_be_inspected_are_refused_when_nested():
    assert refused(make_zip({"data.7z": b"7z\xbc\xaf\x27\x1c" + b"\0" * 600})) == "archive_nested"


def test_tar_gz_is_inspected_like_zip():
    data = make_tar_gz({"README.md": b"# hi\n", "src/main.py": b"print(1)\n"})
    assert [e.name for e in inspect_archive(data, LIMITS)] == ["README.md", "src/main.py"]
    assert read_text_members(data, LIMITS) == {"README.md": "# hi\n", "src/main.py": "print(1)\n"}
    assert refused(make_tar_gz({"../../x": b"x"})) == "archive_path_traversal"
    assert refused(make_tar_gz({"ok": b"x"}, links={"link": "/etc/passwd"})) == "archive_symlink"


def test_a_plain_tar_and_a_plain_gzip_are_inspected():
    assert [e.name for e in inspect_archive(make_tar_gz({"a.txt": b"a"}, gz=False), LIMITS)] == ["a.txt"]
    assert [e.name for e in inspect_archive(gzip.compress(b"just text"), LIMITS)] == ["content"]
    assert read_text_members(gzip.compress(b"just text"), LIMITS) == {"content": "just text"}


def test_a_gzip_bomb_is_refused_while_it_inflates():
    assert refused(gzip_bomb(int(1.5 * MIB))) == "archive_ratio"
    assert refused(gzip_bomb(3 * MIB), ArchiveLimits(max_total_bytes=2 * MIB, max_ratio=100_000)) == "archive_too_large"


def test_broken_archives_are_refused():
    assert refused(make_zip({"a.txt": "x" * 100})[:-30]) == "archive_broken"
    assert refused(b"\x1f\x8b\x08\x00garbage") == "archive_broken"
