"""What the plan report and the comparison page share: sections, Markdown and the HTML shell.

A page is a title and a list of :class:`PageSection` of plain text. It is
rendered twice from the same sections, so the two documents hold the same
numbers: as Markdown by :func:`render_markdown` (every text escaped by
:func:`escape_markdown`) and as one self-contained HTML page by
:func:`render_html` (Jinja2's autoescape; images embedded as data URIs).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jinja2

__all__ = ["PageSection", "Table", "escape_markdown", "render_html", "render_markdown"]

_MARKDOWN_SPECIAL = "\\`*_[]|~#!"
_MARKDOWN_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


@dataclass(frozen=True)
class Table:
    """A table of plain-text cells (escaped only when rendered)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class PageSection:
    """A heading, paragraphs of plain text, an image file, tables, a link and notes."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    image: str | None = None
    """File name of a PNG beside the page; the heading is its alternative text."""
    link: tuple[str, str] | None = None
    """``(text, file name)`` of a file beside the page (never an external address)."""
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------- Markdown


def escape_markdown(text: str) -> str:
    """Escape text so that Markdown renders it literally, also inside a table cell.

    ``&``, ``<`` and ``>`` become entities (so no HTML tag survives), Markdown
    punctuation is backslash-escaped and line breaks become spaces.

    Parameters
    ----------
    text
        Any text from the inputs.

    Returns
    -------
    str
        The escaped text.
    """
    out = []
    for char in str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " "):
        if char in _MARKDOWN_ENTITIES:
            out.append(_MARKDOWN_ENTITIES[char])
        elif char in _MARKDOWN_SPECIAL:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def _markdown_table(table: Table) -> list[str]:
    """A GitHub-flavoured Markdown table."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(escape_markdown(c) for c in cells) + " |"

    return [line(table.headers), "|" + "---|" * len(table.headers), *map(line, table.rows)]


def render_markdown(title: str, sections: Sequence[PageSection]) -> str:
    """The page as Markdown; images and links point at files beside it.

    Parameters
    ----------
    title
        The page title (plain text).
    sections
        The page's sections, in order.

    Returns
    -------
    str
        Markdown ending in one newline.
    """
    lines = [f"# {escape_markdown(title)}", ""]
    for s in sections:
        lines += [f"## {escape_markdown(s.heading)}", ""]
        for paragraph in s.paragraphs:
            lines += [escape_markdown(paragraph), ""]
        if s.image:
            lines += [f"![{escape_markdown(s.heading)}]({s.image})", ""]
        for table in s.tables:
            lines += [*_markdown_table(table), ""]
        if s.link:
            lines += [f"[{escape_markdown(s.link[0])}]({s.link[1]})", ""]
        for note in s.notes:
            lines += [escape_markdown(note), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- HTML

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: {{ width }}; margin: 2rem auto;
       padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
{% block table_style %}{% endblock %}
th { background: #f2f2f2; } tr:nth-child(even) td { background: #fafafa; }
img { max-width: 100%; } .note { color: #555; font-size: 0.85rem; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
{% for s in sections %}
<section>
<h2>{{ s.heading }}</h2>
{% for p in s.paragraphs %}<p>{{ p }}</p>
{% endfor %}{% if s.image %}{% block image scoped %}{% endblock %}
{% endif %}{% for t in s.tables %}<table>
<thead><tr>{% for h in t.headers %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in t.rows %}<tr>{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>
{% endfor %}{% if s.link %}<p><a href="{{ s.link[1] }}">{{ s.link[0] }}</a> (beside this page)</p>
{% endif %}{% for n in s.notes %}<p class="note">{{ n }}</p>
{% endfor %}</section>
{% endfor %}
</body>
</html>
"""
"""The page shell (Jinja2). A page extends it: it sets ``width`` (of the body) and
fills the blocks ``table_style`` (CSS rules for tables and cells) and ``image``
(the ``<img>`` of section ``s``, its data URI ``images[s.image]``)."""


def render_html(
    template: str,
    *,
    title: str,
    sections: Sequence[PageSection],
    images: Mapping[str, bytes],
) -> str:
    """The page as one self-contained HTML document, the images embedded as data URIs.

    Parameters
    ----------
    template
        Jinja2 source that extends ``"page.html"`` (the shared shell), sets
        ``width`` and fills the ``table_style`` and ``image`` blocks.
    title
        The page title (plain text; escaped here).
    sections
        The page's sections, in order.
    images
        PNG bytes by the file name the sections give as ``image``.

    Returns
    -------
    str
        The HTML page.
    """
    loader = jinja2.DictLoader({"page.html": _PAGE, "this.html": template})
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    encoded = {name: base64.b64encode(data).decode("ascii") for name, data in images.items()}
    return env.get_template("this.html").render(title=title, sections=sections, images=encoded)
