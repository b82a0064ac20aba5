"""The PDF step on small documents: the body and the appendix laid out apart and joined into one PDF."""

from __future__ import annotations

import pypdf
import pytest

from report.__main__ import parse_args, run_step
from report.pdf import render_pdf
from report.render import TEMPLATES
from pdf_pages import internal_links, named_destinations, page_footers, page_labels, page_texts

#: Two body pages that link into the appendix, and an appendix of two pages that links back.
REPORT = """<!DOCTYPE html><html><head><title>A small report</title><style>{style}</style></head><body>
<h1>A small report</h1>
<section id="intro"><h2>Introduction</h2><p>Every point is in the <a href="#points">appendix</a>.</p></section>
<section id="results"><h2 style="break-before: page">Results</h2><p>See the <a href="#flagged">flagged points</a>.</p></section>
<section id="appendix"><h2>Appendix</h2><p>The points of the <a href="#results">results</a>.</p></section>
<section id="points"><h2>Every point</h2><p>Back to the <a href="#intro">introduction</a>.</p></section>
<section id="flagged"><h2 style="break-before: page">Flagged points</h2><p>None.</p></section>
</body></html>"""


@pytest.fixture
def small_pdf(tmp_path):
    html = tmp_path / "report.html"
    html.write_text(REPORT.format(style=(TEMPLATES / "style.css").read_text()))
    data = tmp_path / "summary.csv"
    data.write_text("experiment,method\npi_python,serial\n")
    render_pdf(html, tmp_path / "report.pdf", [data])
    return tmp_path / "report.pdf"


def test_each_link_leads_into_the_right_part_both_ways(small_pdf):
    destinations = named_destinations(small_pdf)
    assert destinations == {"intro": 1, "results": 2, "appendix": 3, "points": 3, "flagged": 4}
    assert sorted(internal_links(small_pdf)) == [(1, "points"), (2, "flagged"), (3, "intro"), (3, "results")]


def test_the_body_and_the_appendix_each_number_their_pages_without_a_blank_one(small_pdf):
    assert page_footers(small_pdf) == ["1/2", "2/2", "A-1/A-2", "A-2/A-2"]
    assert page_labels(small_pdf) == ["1", "2", "A-1", "A-2"]
    assert all(len(text.split()) > 3 for text in page_texts(small_pdf) if text.strip())
    assert len(pypdf.PdfReader(small_pdf).pages) == 4


def test_the_outline_holds_the_appendix_as_a_part_of_its_own(small_pdf):
    outline = pypdf.PdfReader(small_pdf).outline
    titles = [entry.title if not isinstance(entry, list) else [child.title for child in entry] for entry in outline]
    assert titles == ["A small report", ["Introduction", "Results"], "Appendix", ["Every point", "Flagged points"]]


def test_the_joined_pdf_keeps_the_title_and_carries_the_data(small_pdf, tmp_path):
    reader = pypdf.PdfReader(small_pdf)
    assert reader.metadata.title == "A small report"
    assert reader.attachments["summary.csv"] == [(tmp_path / "summary.csv").read_bytes()]


def test_a_document_without_an_appendix_is_one_part(tmp_path):
    html = tmp_path / "compare.html"
    html.write_text(REPORT.format(style=(TEMPLATES / "style.css").read_text()).split('<section id="appendix">')[0]
                    + "</body></html>")
    render_pdf(html, tmp_path / "compare.pdf", [])
    assert page_footers(tmp_path / "compare.pdf") == ["1/2", "2/2"]
    assert named_destinations(tmp_path / "compare.pdf")["results"] == 2


def test_a_page_without_a_body_is_refused_in_one_line_and_leaves_no_pdf(tmp_path, capsys):
    html = tmp_path / "broken.html"
    html.write_text("<html><p>no body element</p></html>")
    assert run_step(parse_args(["pdf", "--html", str(html), "--output", str(tmp_path / "broken.pdf")])) == 1
    assert capsys.readouterr().err == f"python -m report pdf: {html}: the report's HTML has no <body>\n"
    assert not (tmp_path / "broken.pdf").exists()
