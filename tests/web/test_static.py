"""``/static/{name}``: the pages' own stylesheet and scripts, served from the package itself (no CDN,
no web font), versioned by content so browsers may keep them for a year."""

from __future__ import annotations

from service.core.templates import render, static_digest, static_url


def test_the_stylesheet_is_served_at_its_versioned_url_and_may_be_kept_for_a_year(client):
    url = static_url("site.css")
    assert url == f"/static/site.css?v={static_digest('site.css')}"
    answer = client.get(url)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/css; charset=utf-8"
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "prefers-color-scheme: dark" in answer.text


def test_an_unversioned_or_stale_url_is_revalidated_by_etag(client):
    stale = client.get("/static/site.css?v=0000")
    assert stale.headers["cache-control"] == "public, no-cache"
    again = client.get("/static/site.css", headers={"If-None-Match": stale.headers["etag"]})
    assert again.status_code == 304


def test_only_the_packaged_files_are_served(client):
    for name in ("nothing.css", "..%2Fcore%2Fconfig.py", "%2E%2E%2Ftemplates%2F_layout.html", "site.css.bak"):
        assert client.get(f"/static/{name}").status_code == 404, name
    assert client.get("/static/../core/config.py").status_code == 404


def test_the_layout_links_the_stylesheet_and_nothing_from_elsewhere():
    html = render("_layout.html")
    assert f'href="{static_url("site.css")}"' in html
    assert "<style" not in html and "<script" not in html
    assert "http://" not in html and "https://" not in html
    assert '<a class="skip-link" href="#main">' in html
