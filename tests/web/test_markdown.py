"""Evidence Markdown becomes sanitised HTML: formatting and code highlighting kept, anything that
could run, style the page or load from elsewhere dropped or turned into text or a link."""

from __future__ import annotations

import pytest

from service.web.markdown import render_markdown, same_origin_image


def test_markdown_formatting_is_rendered_with_headings_under_the_pages_own():
    html = render_markdown(
        "# Title\n\n## Part\n\nSome **bold** and `code`.\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )

    assert "<h4>Title</h4>" in html and "<h5>Part</h5>" in html
    assert "<strong>bold</strong>" in html and "<code>code</code>" in html
    assert "<li>one</li>" in html and "<td>1</td>" in html


def test_code_is_highlighted_with_css_classes_only():
    html = render_markdown("```python\nimport os\n```")

    assert '<pre class="hl"><code><span class="kn">import</span>' in html
    assert "style=" not in html


def test_code_in_an_unknown_language_is_plain_escaped_text():
    html = render_markdown("```nosuchlanguage\n<b>bold?</b>\n```")

    assert "&lt;b&gt;bold?&lt;/b&gt;" in html and "<b>" not in html and 'class="hl"' not in html


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "<iframe src=https://evil.example></iframe>",
        '<a href="javascript:alert(1)">x</a>',
        "<style>body{display:none}</style>",
        '<div style="position:fixed">x</div>',
    ],
)
def test_raw_html_is_shown_as_text(markdown):
    html = render_markdown(markdown)

    assert "<script" not in html and "<img" not in html and "<iframe" not in html and "<style" not in html
    assert "<a " not in html and "<div" not in html and "&lt;" in html


@pytest.mark.parametrize(
    "markdown", ["[x](javascript:alert(1))", "[x](vbscript:msgbox)", "[x](data:text/html,<script>alert(1)</script>)"]
)
def test_links_to_scripts_and_data_are_not_links(markdown):
    assert "<a " not in render_markdown(markdown)


def test_links_open_nothing_with_the_pages_privileges():
    html = render_markdown("[site](https://example.org/page)")

    assert html.strip() == ('<p><a href="https://example.org/page" rel="nofollow noopener noreferrer">site</a></p>')


def test_only_images_the_page_may_load_are_shown_and_others_become_links():
    html = render_markdown(
        "![ours](/evidence/items/abc) ![inline](data:image/png;base64,iVBORw0KGgo=) "
        "![theirs](https://tracker.example/p.png) ![svg](data:image/svg+xml;base64,PHN2Zz4=)"
    )

    assert '<img src="/evidence/items/abc" alt="ours">' in html
    assert '<img src="data:image/png;base64,iVBORw0KGgo=" alt="inline">' in html
    assert '<a href="https://tracker.example/p.png" rel="nofollow noopener noreferrer">Image: theirs</a>' in html
    assert '<img src="data:image/svg' not in html and 'src="https://tracker' not in html


@pytest.mark.parametrize(
    ("src", "allowed"),
    [
        ("/evidence/items/1", True),
        ("//evil.example/x.png", False),
        ("https://evil.example/x.png", False),
        ("data:image/webp;base64,AA", True),
        ("data:text/html,x", False),
    ],
)
def test_same_origin_images(src, allowed):
    assert same_origin_image(src) is allowed
