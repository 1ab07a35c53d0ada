"""Comment text: the Markdown subset, the sanitiser and mentions.

The expected HTML below is written out by hand from the rules in
creditokr/collab/rendering.py: CommonMark without raw HTML, images,
headings or automatic links; then only p, br, strong, em, code, pre,
blockquote, ul, ol, li, a (http, https, mailto) and the mention span.
"""

from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditokr.accounts.models import User
from creditokr.collab.rendering import ALLOWED_TAGS, mention_candidates, render

REL = 'rel="nofollow noopener noreferrer"'


def html(source: str, people: dict[str, User] | None = None) -> str:
    return render(source, people).html.strip()


def ana(**names: str) -> User:
    return User(pk=7, username="ana.silva", **names)


class Tags(HTMLParser):
    """Every tag and attribute in a fragment, as a browser would read it."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def tags_in(fragment: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(fragment)
    return parser.found


def test_a_script_tag_is_shown_as_text():
    assert html("<script>alert(1)</script>") == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    )


def test_an_image_with_an_event_handler_is_shown_as_text():
    assert html('<img src=x onerror="alert(1)">') == (
        '<p>&lt;img src=x onerror="alert(1)"&gt;</p>'
    )


def test_a_raw_html_block_is_shown_as_text():
    source = '<div onclick="steal()">\n<b>bold</b>\n</div>'

    assert html(source) == (
        '<p>&lt;div onclick="steal()"&gt;\n&lt;b&gt;bold&lt;/b&gt;\n&lt;/div&gt;</p>'
    )


@pytest.mark.parametrize(
    "target",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "vbscript:msgbox(1)",
        "java%0ascript:alert(1)",
    ],
)
def test_a_markdown_link_to_script_is_no_link(target):
    rendered = html(f"[click]({target})")

    assert "href" not in rendered
    assert rendered.startswith("<p>")
    assert rendered.endswith("</p>")


def test_a_data_url_is_no_link_or_loses_its_address():
    rendered = html("[x](data:text/html;base64,PHM+) [y](data:image/png;base64,AA)")

    assert rendered == f"<p>[x](data:text/html;base64,PHM+) <a {REL}>y</a></p>"


def test_an_image_is_not_shown_and_its_address_is_a_plain_link():
    assert html("![chart](https://example.test/c.png)") == (
        f'<p>!<a href="https://example.test/c.png" {REL}>chart</a></p>'
    )


def test_a_relative_link_loses_its_address():
    assert html("[home](/admin/)") == f"<p><a {REL}>home</a></p>"


def test_links_to_web_and_mail_addresses_are_kept_and_marked_nofollow():
    source = "[site](https://example.test/a?b=1) <mailto:ana@example.test>"

    assert html(source) == (
        f'<p><a href="https://example.test/a?b=1" {REL}>site</a> '
        f'<a href="mailto:ana@example.test" {REL}>mailto:ana@example.test</a></p>'
    )


def test_a_bare_address_stays_text():
    assert html("see https://example.test") == "<p>see https://example.test</p>"


def test_nested_emphasis():
    assert html("***both*** and **a *b* c** and _x **y _z_**_") == (
        "<p><em><strong>both</strong></em> and <strong>a <em>b</em> c</strong>"
        " and <em>x <strong>y <em>z</em></strong></em></p>"
    )


def test_lists_quotes_and_code_are_kept():
    source = "> asked\n\n1. one\n2. two\n\n- a\n\n```\nx < y\n```\n\n`@ana.silva`"

    assert html(source, {"ana.silva": ana()}) == (
        "<blockquote>\n<p>asked</p>\n</blockquote>\n"
        "<ol>\n<li>one</li>\n<li>two</li>\n</ol>\n"
        "<ul>\n<li>a</li>\n</ul>\n"
        "<pre><code>x &lt; y\n</code></pre>\n"
        "<p><code>@ana.silva</code></p>"
    )


def test_a_heading_is_plain_text():
    assert html("# Big") == "<p># Big</p>"


def test_a_mention_becomes_a_span_with_the_full_name():
    rendered = render(
        "Thanks @ana.silva, and @nobody.", {"ana.silva": ana(first_name="Ana")}
    )

    assert rendered.html.strip() == (
        '<p>Thanks <span class="mention" title="Ana">@ana.silva</span>'
        ", and @nobody.</p>"
    )
    assert rendered.mentioned == {7}


def test_a_full_stop_after_a_name_ends_the_mention():
    rendered = html("Over to @ana.silva.", {"ana.silva": ana()})

    assert rendered == (
        '<p>Over to <span class="mention" title="ana.silva">@ana.silva</span>.</p>'
    )


def test_usernames_with_plus_underscore_and_dash_are_mentioned():
    people = {"b_o-b+credit": User(pk=9, username="b_o-b+credit")}

    rendered = render("cc @b_o-b+credit", people)

    assert rendered.mentioned == {9}
    assert "@b_o-b+credit</span>" in rendered.html


def test_an_email_address_is_not_a_mention():
    rendered = render("write to bob@ana.silva", {"ana.silva": ana()})

    assert rendered.mentioned == frozenset()
    assert "span" not in rendered.html


def test_a_mention_inside_link_text_stays_link_text():
    rendered = render("[@ana.silva](https://example.test)", {"ana.silva": ana()})

    assert rendered.mentioned == frozenset()
    assert rendered.html.strip() == (
        f'<p><a href="https://example.test" {REL}>@ana.silva</a></p>'
    )


def test_a_name_with_markup_cannot_inject_attributes():
    person = ana(first_name='Ana" onmouseover="alert(1)', last_name="<img src=x>")

    rendered = render("hi @ana.silva", {"ana.silva": person})

    found = tags_in(rendered.html)
    assert found == [
        ("p", {}),
        (
            "span",
            {"class": "mention", "title": 'Ana" onmouseover="alert(1) <img src=x>'},
        ),
    ]


def test_text_after_a_name_cannot_inject_attributes():
    rendered = render('@ana.silva"onclick=alert(1)>', {"ana.silva": ana()})

    assert [tag for tag, _ in tags_in(rendered.html)] == ["p", "span"]
    assert rendered.html.strip().endswith('@ana.silva</span>"onclick=alert(1)&gt;</p>')


def test_mention_candidates_include_the_name_without_a_full_stop():
    assert mention_candidates("@ana.silva. and @bo, mail x@y.z") == {
        "ana.silva.",
        "ana.silva",
        "bo",
    }


FRAGMENTS = st.sampled_from(
    [
        "<script>",
        "</script>",
        "<img src=x onerror=alert(1)>",
        "<a href='javascript:alert(1)'>",
        "[x](javascript:alert(1))",
        "[y](data:text/html,1)",
        "<https://ok.test>",
        "![i](https://x.test/i.png)",
        "**",
        "*",
        "_",
        "`",
        "```\n",
        "> ",
        "- ",
        "1. ",
        "\n\n",
        "@ana.silva",
        '"',
        "'",
        "<",
        ">",
        "&",
        "<span class=mention>",
        "<style>",
        "onclick=",
        "text",
    ]
)


@given(st.lists(FRAGMENTS, max_size=25).map("".join))
def test_whatever_is_typed_only_allowed_markup_comes_out(source):
    rendered = render(source, {"ana.silva": ana()})

    for tag, attributes in tags_in(rendered.html):
        assert tag in ALLOWED_TAGS
        allowed = {"a": {"href", "rel"}, "span": {"class", "title"}}.get(tag, set())
        assert set(attributes) <= allowed
        href = attributes.get("href")
        assert href is None or href.startswith(("http:", "https:", "mailto:"))
        if tag == "span":
            assert attributes["class"] == "mention"
