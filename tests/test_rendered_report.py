"""The rendered report as a reader gets it: the HTML in headless Chromium, the PDF as page images."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess

import pytest
from PIL import Image

from conftest import REPO
from experiments.registry import EXPERIMENTS
from pdf_pages import (
    internal_links,
    named_destinations,
    page_footers,
    page_texts,
    pages_before_the_appendix,
    words_past_the_right_margin,
)
from report.figures import figures_for

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def page_visit(smoke_run, tmp_path_factory):
    """Open report.html from the file system in headless Chromium; record every request and error."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Chromium is missing: tools/setup.sh installs it"
    requests, failures, errors = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda request: requests.append(request.url))
        page.on("requestfailed", lambda request: failures.append(request.url))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto((smoke_run / "report.html").as_uri(), wait_until="load")
        figures = page.eval_on_selector_all(
            "figure[data-figure]",
            "els => els.map(e => { const s = e.querySelector('svg'); const r = s ? s.getBoundingClientRect() : null;"
            " return {name: e.dataset.figure, width: r ? r.width : 0, height: r ? r.height : 0}; })",
        )
        sections = dict(page.eval_on_selector_all("section[id]", "els => els.map(e => [e.id, e.innerText])"))
        text = page.inner_text("body")
        # per table of the sections: the columns in which no body cell has a value
        empty_columns = page.eval_on_selector_all(
            "section:not(#appendix ~ section):not(#appendix) table",
            "els => els.map(t => { const rows = Array.from(t.tBodies).flatMap(b => Array.from(b.rows));"
            " const width = Math.max(0, ...rows.map(r => r.cells.length));"
            " const empty = [...Array(width).keys()].filter(i => rows.length && rows.every(r => !r.cells[i]"
            " || ['', 'n/a', '–'].includes(r.cells[i].innerText.trim())));"
            " return [t.className, t.dataset.experiment || '', empty]; }).filter(x => x[2].length)",
        )
        # every collapsed box open, so that its tables are laid out too
        page.eval_on_selector_all("details", "els => els.forEach(e => { e.open = true; })")
        overflowing = page.eval_on_selector_all(
            "table",
            "els => els.filter(t => t.getClientRects().length).map(t => [t.className, t.dataset.experiment || '',"
            " t.getBoundingClientRect().right - t.parentElement.getBoundingClientRect().right]).filter(x => x[2] > 0.5)",
        )
        hover = page.eval_on_selector_all(
            "figure[data-figure]",
            "els => els.map(e => [e.dataset.figure, Array.from(e.querySelectorAll('svg title')).map(t => t.textContent)])",
        )
        screenshot = tmp_path_factory.mktemp("screens") / "report.png"
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    return {"requests": requests, "failures": failures, "errors": errors, "figures": figures,
            "sections": sections, "text": text, "screenshot": screenshot, "overflowing": overflowing,
            "empty_columns": empty_columns,
            "hover": dict(hover)}


def test_report_loads_nothing_but_itself(page_visit, smoke_run):
    assert page_visit["requests"] == [(smoke_run / "report.html").as_uri()]
    assert page_visit["failures"] == []
    assert page_visit["errors"] == []


def test_every_figure_is_present_and_drawn(page_visit, smoke_config):
    expected = figures_for(smoke_config["experiments"])
    assert sorted(f["name"] for f in page_visit["figures"]) == sorted(expected)
    for figure in page_visit["figures"]:
        assert figure["width"] > 200 and figure["height"] > 100, figure


def test_every_experiment_has_its_section_and_numbers(page_visit, smoke_config):
    for name in smoke_config["experiments"]:
        assert name in page_visit["sections"]
        assert EXPERIMENTS[name].title in page_visit["text"]
    for heading in ("At a glance", "Do the book's conclusions hold here?", "How we measured", "Beside the book", "Measurement quality", "Machine and software"):
        assert heading in page_visit["text"]
    # the sections' tables show only columns with values
    assert page_visit["empty_columns"] == []


def test_the_first_screen_tells_the_story_before_the_contents(page_visit):
    text = page_visit["text"]
    glance = page_visit["sections"]["glance"]
    assert re.search(r"Of the book's \d+ conclusions tested here: \d+ ", glance)
    assert "What to use when, on this machine" in glance and "How quiet the machine was" in glance
    assert text.index("At a glance") < text.index("Contents") < text.index("Do the book's conclusions hold here?")


def test_no_table_overflows_its_column_at_1280_pixels(page_visit):
    assert page_visit["overflowing"] == []


def test_hovering_a_point_names_its_method_workers_median_and_interval(page_visit):
    scaling = page_visit["hover"]["pi_python"]
    assert scaling, "no hover titles in the pure-Python figure"
    seconds = r"[\d.]+ (s|ms|µs)"
    assert any(re.fullmatch(rf"process pool, \d+ workers?( \(\w+\))?: median {seconds} \[{seconds}, {seconds}\]", t)
               for t in scaling), scaling[:5]
    for name in ("pi_numpy", "primes_pool", "primes_queue", "ipc_flags"):
        if name in page_visit["hover"]:
            assert page_visit["hover"][name], name


def test_the_data_travel_with_the_html(smoke_run):
    html = (smoke_run / "report.html").read_text()
    for name in ("trials.csv", "summary.csv", "claims.csv", "book_comparison.csv"):
        match = re.search(rf'<a download="{re.escape(name)}" href="data:text/csv;base64,([^"]+)"', html)
        assert match, name
        assert base64.b64decode(match.group(1)) == (smoke_run / name).read_bytes(), name


def test_the_data_travel_with_the_pdf(smoke_run, tmp_path):
    listing = subprocess.run(["pdfdetach", "-list", str(smoke_run / "report.pdf")], capture_output=True, text=True,
                             check=True).stdout
    names = re.findall(r"^\d+: (.+)$", listing, re.M)
    assert sorted(names) == sorted(["trials.csv", "summary.csv", "claims.csv", "book_comparison.csv"])
    subprocess.run(["pdfdetach", "-saveall", "-o", str(tmp_path), str(smoke_run / "report.pdf")], check=True)
    assert (tmp_path / "claims.csv").read_bytes() == (smoke_run / "claims.csv").read_bytes()


def test_no_word_of_the_pdf_runs_into_the_right_margin(smoke_run):
    assert words_past_the_right_margin(smoke_run / "report.pdf") == []


def test_the_pdf_lists_its_contents_on_page_1_or_2(smoke_run):
    assert any(re.search(r"^Contents$", text, re.M) for text in page_texts(smoke_run / "report.pdf")[:2])


def test_the_pdf_body_before_its_appendix_is_at_most_30_pages(smoke_run):
    assert pages_before_the_appendix(smoke_run / "report.pdf") <= 30


def test_every_link_of_the_pdf_lands_in_the_report_from_the_body_into_the_appendix_and_back(smoke_run):
    pdf = smoke_run / "report.pdf"
    destinations, links, body = named_destinations(pdf), internal_links(pdf), pages_before_the_appendix(pdf)
    assert [name for _, name in links if name not in destinations] == []
    assert any(page <= body < destinations[name] for page, name in links)
    assert any(destinations[name] <= body < page for page, name in links)


def test_the_pdf_numbers_the_body_and_the_appendix_each_on_its_own(smoke_run):
    footers, body = page_footers(smoke_run / "report.pdf"), pages_before_the_appendix(smoke_run / "report.pdf")
    appendix = len(footers) - body
    assert footers == [f"{n}/{body}" for n in range(1, body + 1)] + [f"A-{n}/A-{appendix}" for n in range(1, appendix + 1)]


#: The committed report of the default grid (README, "A published run").
REFERENCE_PDF = REPO / "results" / "amd-epyc-2cpu-db7325b1" / "reference" / "report.pdf"


def test_the_committed_reference_pdf_keeps_every_word_inside_the_margin_and_its_body_within_30_pages():
    assert words_past_the_right_margin(REFERENCE_PDF) == []
    assert pages_before_the_appendix(REFERENCE_PDF) <= 30


def test_screenshot_is_a_real_page(page_visit, monkeypatch):
    # the whole page at 1280 px is about 90 M pixels, past Pillow's guard against decompression bombs
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with Image.open(page_visit["screenshot"]) as image:
        assert image.height > 3000
        colours = image.convert("L").getextrema()
        assert colours[0] < 50 and colours[1] > 200


def test_pdf_pages_are_not_blank_and_carry_the_content(smoke_run, smoke_config, tmp_path):
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(smoke_run / "report.pdf"), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 4
    for number, page in enumerate(pages, start=1):
        with Image.open(page) as image:
            grey = image.convert("L")
            dark = sum(grey.histogram()[:128])
            assert dark > 0.0005 * grey.width * grey.height, page.name
        # more than the page number: a short last page (the end of a table) is fine, an empty one is not
        words = subprocess.run(["pdftotext", "-f", str(number), "-l", str(number), str(smoke_run / "report.pdf"), "-"],
                               capture_output=True, text=True, check=True).stdout.split()
        assert len(words) > 5, page.name
    text = subprocess.run(["pdftotext", str(smoke_run / "report.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    for name in smoke_config["experiments"]:
        assert EXPERIMENTS[name].title in text


def test_the_axes_section_shows_each_start_method_and_notes_the_skipped_interpreter(page_visit, smoke_config):
    assert "axes" in page_visit["sections"]
    axes = page_visit["sections"]["axes"]
    for start_method in smoke_config["experiments"]["pi_python"]["start_methods"]:
        assert f"{start_method} [" in axes  # a column per start method, with its interval
    # the missing interpreter is named with its reason at the top and in its section, and the run went on
    glance = page_visit["sections"]["glance"]
    assert "Interpreter absent was skipped" in glance and "no-such-python3 was not found" in glance
    assert "pi_python skipped: no-such-python3 was not found" in axes
    assert "same-again" in axes
