"""An HTML report → its PDF (WeasyPrint), carrying the run's data files as attachments.

Apart from :mod:`report.render`, so that this step imports WeasyPrint and nothing of the analysis.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import weasyprint

#: An inline SVG figure; a download link's embedded file (report.html.j2, "The data").
INLINE_SVG = re.compile(r"<svg\b.*?</svg>", re.S)
EMBEDDED_FILE = re.compile(r' href="data:[^"]*"')


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


def render_pdf(html_path: Path, pdf_path: Path, attachments: list[Path]) -> None:
    """The PDF of the HTML report at ``html_path``, with the files ``attachments`` attached."""
    attached = [weasyprint.Attachment(filename=str(path), name=path.name, description=path.name) for path in attachments]
    html = weasyprint.HTML(string=print_markup(html_path.read_text()), base_url=str(html_path))
    html.write_pdf(str(pdf_path), attachments=attached)
