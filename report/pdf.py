"""An HTML report → its PDF (WeasyPrint), carrying the run's data files as attachments.

Apart from :mod:`report.render`, so that this step imports WeasyPrint and nothing of the analysis.

WeasyPrint lays a document out on one core. The report's body (its figures) and its appendix (its long
tables) take about as long each, so they are laid out at once, as two documents in two processes, and
joined page by page (pypdf). Each part numbers its own pages: the body ``1 / 27``, the appendix ``A-1 / A-25``,
in the footer and in the PDF viewer's page labels. A link from one part into the other names its target
(a PDF named destination); for WeasyPrint to keep such a link, the part holds an empty anchor of that name
on an extra last page, which the join leaves out with its destinations, so that the name resolves to the
other part's real one.
"""

from __future__ import annotations

import base64
import io
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pypdf
import weasyprint
from pypdf.generic import ArrayObject, DictionaryObject, Fit, FloatObject, NameObject, NullObject, TextStringObject

#: An inline SVG figure; a download link's embedded file (report.html.j2, "The data").
INLINE_SVG = re.compile(r"<svg\b.*?</svg>", re.S)
EMBEDDED_FILE = re.compile(r' href="data:[^"]*"')
#: A document's body; where the appendix starts (report.html.j2); the element ids and the internal links.
BODY = re.compile(r"<body\b[^>]*>(.*)</body>", re.S)
APPENDIX = '<section id="appendix">'
ELEMENT_ID = re.compile(r'\sid="([^"]+)"')
INTERNAL_LINK = re.compile(r'\shref="#([^"]+)"')
#: The element each part ends with: its footers count the pages up to it (style.css).
PART_END_ID = "part-end"
PART_END = f'<div id="{PART_END_ID}"></div>'


def print_markup(html: str) -> str:
    """The report's HTML as the PDF lays it out: the same content, in a form WeasyPrint renders faster.

    An inline figure becomes an ``<img>`` of the same SVG: WeasyPrint then parses it as XML and styles it
    alone, where inline each of its thousands of elements goes through the HTML parser and the page's
    stylesheet (a sixth of the reference report's PDF time). A download link keeps its text but not its
    file: the PDF carries the files as attachments, and the link would store its file a second time.
    """

    def as_image(svg: re.Match) -> str:
        payload = base64.b64encode(svg.group(0).encode()).decode("ascii")
        return f'<img alt="" src="data:image/svg+xml;base64,{payload}">'

    return EMBEDDED_FILE.sub("", INLINE_SVG.sub(as_image, html))


@dataclass(frozen=True)
class Part:
    """One part of the report as a document of its own; ``extra_page``: it ends with a link-target page."""

    markup: str
    extra_page: bool


def split_parts(markup: str) -> list[Part]:
    """The body and the appendix of ``markup`` as two documents (one, the whole, if it has no appendix).

    Each part's ``<body>`` has its part's class (``body``, ``appendix``: the appendix's footers say ``A-``) and
    ends with :data:`PART_END`; then, on a page of its own, it holds an empty anchor for every link target
    that lies in the other part.
    """
    body_element = BODY.search(markup)
    if body_element is None:
        raise ValueError("the report's HTML has no <body>")
    head, content = markup[: body_element.start()], body_element.group(1)
    if APPENDIX not in content:
        return [finish_part(head, "body", content, other="")]
    body, appendix = content.split(APPENDIX, 1)
    appendix = APPENDIX + appendix
    return [finish_part(head, "body", body, other=appendix), finish_part(head, "appendix", appendix, other=body)]


def finish_part(head: str, name: str, content: str, other: str) -> Part:
    """One part as a whole document: ``head``, ``content``, its end, and anchors for its links into ``other``."""
    targets = sorted(set(INTERNAL_LINK.findall(content)) & set(ELEMENT_ID.findall(other)))
    anchors = "".join(f'<a id="{target}"></a>' for target in targets)
    link_targets = f'<div class="link-targets">{anchors}</div>' if targets else ""
    return Part(f'{head}<body class="{name}">{content}{PART_END}{link_targets}</body></html>', bool(targets))


def render_part(markup: str, base_url: str, attachments: list[Path]) -> bytes:
    """One part's PDF, carrying ``attachments``."""
    attached = [weasyprint.Attachment(filename=str(path), name=path.name, description=path.name) for path in attachments]
    return weasyprint.HTML(string=markup, base_url=base_url).write_pdf(attachments=attached)


def join_parts(parts: list[Part], rendered: list[bytes]) -> pypdf.PdfWriter:
    """The parts' pages in order, without their link-target pages, with the first part's metadata and files.

    Page by page, not with ``PdfWriter.append``: that drops a link to a name it does not hold yet, and the
    body's links into the appendix would all go.
    """
    writer = pypdf.PdfWriter()
    for number, (part, pdf) in enumerate(zip(parts, rendered, strict=True)):
        reader = pypdf.PdfReader(io.BytesIO(pdf))
        start = len(writer.pages)
        kept = reader.pages[: len(reader.pages) - part.extra_page]
        for page in kept:
            writer.add_page(page)
        for name, destination in reader.named_destinations.items():
            index = reader.get_destination_page_number(destination)
            # not a stand-in on the link-target page, nor the end mark that every part has
            if index < len(kept) and name != PART_END_ID:
                writer.add_named_destination_array(TextStringObject(name), ArrayObject([
                    writer.pages[start + index].indirect_reference, NameObject("/XYZ"),
                    FloatObject(destination.left), FloatObject(destination.top), NullObject()]))
        copy_outline(reader, reader.outline, writer, start, parent=None)
        writer.set_page_label(start, start + len(kept) - 1, style="/D", prefix="A-" if number else None)
        if number == 0:
            writer.add_metadata(reader.metadata)
            copy_attachments(reader, writer)
    return writer


def copy_outline(reader: pypdf.PdfReader, items: list, writer: pypdf.PdfWriter, start: int, parent) -> None:
    """The bookmarks ``items`` of ``reader`` (a list after an item holds its children), under ``parent``."""
    item = None
    for entry in items:
        if isinstance(entry, list):
            copy_outline(reader, entry, writer, start, parent=item)
        else:
            item = writer.add_outline_item(title=entry.title, page_number=start + reader.get_destination_page_number(entry),
                                           parent=parent, fit=Fit.xyz(entry.left, entry.top))


def copy_attachments(reader: pypdf.PdfReader, writer: pypdf.PdfWriter) -> None:
    """The files ``reader`` carries, into ``writer``: WeasyPrint compressed them, pypdf's ``add_attachment`` would not."""
    files = reader.root_object.get("/Names", {}).get("/EmbeddedFiles")
    if files is not None:
        names = writer.root_object.setdefault(NameObject("/Names"), DictionaryObject()).get_object()
        names[NameObject("/EmbeddedFiles")] = files.clone(writer).indirect_reference


def render_pdf(html_path: Path, pdf_path: Path, attachments: list[Path]) -> None:
    """The PDF of the HTML report at ``html_path``, with the files ``attachments`` attached."""
    parts = split_parts(print_markup(html_path.read_text()))
    files = [attachments] + [[]] * (len(parts) - 1)
    # forked, the workers start with WeasyPrint imported (half a second each)
    with ProcessPoolExecutor(len(parts), mp_context=multiprocessing.get_context("fork")) as pool:
        rendered = list(pool.map(render_part, [part.markup for part in parts], [str(html_path)] * len(parts), files))
    join_parts(parts, rendered).write(pdf_path)
