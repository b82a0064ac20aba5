"""What a reader sees of a PDF report, read with poppler: words in the margin, the length of the body."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

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
