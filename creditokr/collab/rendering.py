"""Comment text: a small, safe subset of Markdown, with @mentions.

The source a person typed is kept; what pages show is rendered once, when
the comment is saved or edited, and cached on the comment.

Rendering is CommonMark with raw HTML switched off, so anything that looks
like a tag is shown as text, and without images, headings or automatic
links. The HTML is then sanitised with an allow-list (paragraphs, line
breaks, emphasis, code, quotes, lists and links to http, https and mailto
addresses only), so even a mistake in the Markdown step cannot let a
script, an event handler or a `javascript:` link through.

`@username` becomes a mention only for the people the caller names (those
who exist, can sign in and may see what is being discussed); any other
`@word` stays plain text. Mentions inside code or link text are left alone.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from creditokr.accounts.models import User

# Usernames are letters, digits and . _ - + (Django's own rule, without @).
MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]+)")
# A sentence may end right after a name: "thanks @ana." mentions ana.
TRAILING = ".-+"
# No one writes more names than this in one comment; the rest stay text.
MOST_MENTIONS = 50

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "span",
}
SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener noreferrer"

_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes={"a": {"href"}, "span": {"title"}, "ol": {"start"}},
    allowed_classes={"span": {"mention"}},
    link_rel=LINK_REL,
    url_schemes=SCHEMES,
    url_relative="deny",
)


@dataclass(frozen=True)
class Rendered:
    html: str
    mentioned: frozenset[int]


def mention_candidates(source: str) -> set[str]:
    """Every username `source` might mention, however it is written."""
    found: set[str] = set()
    for match in MENTION.finditer(source):
        name = match.group(1)
        found.add(name)
        found.add(name.rstrip(TRAILING))
        if len(found) >= 2 * MOST_MENTIONS:
            break
    found.discard("")
    return found


def render(source: str, people: Mapping[str, User] | None = None) -> Rendered:
    """The sanitised HTML for `source`, and whom it mentions.

    `people` maps usernames to the people who may be mentioned; every other
    `@name` stays text.
    """
    env: dict[str, Any] = {"people": dict(people or {}), "mentioned": set()}
    html = _MARKDOWN.render(source, env)
    return Rendered(sanitise(html), frozenset(env["mentioned"]))


def sanitise(html: str) -> str:
    """Keep only the allowed tags, attributes and link schemes."""
    cleaned: str = _CLEANER.clean(html)
    return cleaned


# Markdown, and the rule that turns @names into mentions


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False})
    md.disable(["image", "heading", "lheading", "html_block", "html_inline"])
    md.core.ruler.push("mentions", _mentions)
    md.add_render_rule("mention", _render_mention)
    return md


def _mentions(state: StateCore) -> None:
    people: Mapping[str, User] = state.env.get("people", {})
    if not people:
        return
    for block in state.tokens:
        if block.type == "inline" and block.children:
            block.children = list(_split(block.children, people, state.env))


def _split(
    tokens: Iterable[Token], people: Mapping[str, User], env: EnvType
) -> Iterable[Token]:
    in_link = 0
    for token in tokens:
        if token.type == "link_open":
            in_link += 1
        elif token.type == "link_close":
            in_link -= 1
        if token.type != "text" or in_link:
            yield token
            continue
        yield from _split_text(token, people, env)


def _split_text(
    token: Token, people: Mapping[str, User], env: EnvType
) -> Iterable[Token]:
    text, done = token.content, 0
    for match in MENTION.finditer(text):
        name = _known(match.group(1), people)
        if name is None:
            continue
        person = people[name]
        end = match.start(1) + len(name)
        if match.start() > done:
            yield _text(text[done : match.start()])
        mention = Token("mention", "span", 0)
        mention.content = name
        mention.meta = {"user": person.pk, "title": person.get_full_name()}
        env["mentioned"].add(person.pk)
        yield mention
        done = end
    if done < len(text):
        yield _text(text[done:])


def _known(name: str, people: Mapping[str, User]) -> str | None:
    for candidate in (name, name.rstrip(TRAILING)):
        if candidate in people:
            return candidate
    return None


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def _render_mention(
    self: RendererHTML,
    tokens: list[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    token = tokens[idx]
    title = token.meta.get("title") or token.content
    return (
        f'<span class="mention" title="{escapeHtml(title)}">'
        f"@{escapeHtml(token.content)}</span>"
    )


_MARKDOWN = _markdown()
