"""What a reader sees of a PDF report, read with poppler: words in the margin, the length of the body, where
its links lead (the links themselves read with pypdf)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pypdf

#: The right margin of the report's pages (report/templates/style.css: @page margin), in points.
RIGHT_MARGIN_POINTS = 12 / 25.4 * 72


def words_past_the_right_margin(pdf: Path) -> list[tuple[int, str]]:
    """(page, word) for every word of ``pdf`` whose box ends in the right margin or beyond (half a point of slack)."""
    boxes = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    found = []
    pages = re.findall(r'<page width="([\d.]+)" height="[\d.]+">(.*?)</page>', boxes, re.S)
    for number, (width, words) in enumerate(pages, start=1):
        edge = float(width) - RIGHT_MARGIN_POINTS + 0.5
        found += [(number, word) for right, word in re.findall(r'xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', words)
                  if float(right) > edge]
    return found


def page_texts(pdf: Path) -> list[str]:
    """The text of each page of ``pdf``, in order."""
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split("\f")


def pages_before_the_appendix(pdf: Path) -> int:
    """How many pages come before the one that opens with the heading "Appendix"."""
    return next(number for number, text in enumerate(page_texts(pdf)) if text.lstrip().startswith("Appendix\n"))


def page_footers(pdf: Path) -> list[str]:
    """The last line of each page of ``pdf``, its page number (report/templates/style.css, @page), without the
    spaces, which pdftotext keeps on some pages and not on others."""
    return ["".join(text.rstrip().splitlines()[-1].split()) for text in page_texts(pdf) if text.strip()]


def named_destinations(pdf: Path) -> dict[str, int]:
    """Each named destination of ``pdf`` (an element id of the report), with its page, from 1, as poppler finds it."""
    listing = subprocess.run(["pdfinfo", "-dests", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {name: int(page) for page, name in re.findall(r'^\s*(\d+) \[.*\] "(.*)"$', listing, re.M)}


def internal_links(pdf: Path) -> list[tuple[int, str]]:
    """(page, from 1; the named destination it leads to) for every internal link of ``pdf``."""
    reader = pypdf.PdfReader(pdf)
    return [(number, str(annotation["/Dest"]))
            for number, page in enumerate(reader.pages, start=1)
            for annotation in (item.get_object() for item in page.get("/Annots") or [])
            if "/Dest" in annotation]


def page_labels(pdf: Path) -> list[str]:
    """The page numbers a PDF viewer shows for ``pdf``."""
    return list(pypdf.PdfReader(pdf).page_labels)
