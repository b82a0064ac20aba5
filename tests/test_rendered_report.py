"""The rendered report as a reader gets it: the HTML in headless Chromium, the PDF as page images."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from PIL import Image

from experiments.registry import EXPERIMENTS
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
        page = browser.new_page(viewport={"width": 1100, "height": 900})
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
        screenshot = tmp_path_factory.mktemp("screens") / "report.png"
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    return {"requests": requests, "failures": failures, "errors": errors, "figures": figures,
            "sections": sections, "text": text, "screenshot": screenshot}


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
    assert "n/a" not in page_visit["text"].split("All points")[0]


def test_screenshot_is_a_real_page(page_visit):
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
