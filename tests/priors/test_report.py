"""The HTML report: its sections, tables and pictures, offline, escaped; the command."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
import shutil
import subprocess
from html.parser import HTMLParser
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from plausibly.cli.app import app
from plausibly.models import settings as D
from plausibly.models.diagnostics import Diagnostics
from plausibly.models.scenario import load_scenario
from plausibly.models.settings import Settings
from plausibly.priors.catalog import load_prior_sets
from plausibly.priors.comparison import compare
from plausibly.priors.report import ASSUMPTIONS, ReportRequest, build_report, render_report

DATA = Path(__file__).parents[1] / "data"
SQUAD = str(DATA / "firing_squad.toml")
FIXED = str(DATA / "firing_squad_fixed.toml")
JUDGED = str(DATA / "firing_squad_priors.toml")
V2 = str(DATA / "v2_small.toml")
V2_OUTCOMES = ["democracy_1930", "regime_1930>=open_party"]
SECTIONS = ["question", "graph", "ranking", "pods", "claims", "prior-sets", "diagnostics",
            "assumptions", "reproduce"]
runner = CliRunner()


class Page(HTMLParser):
    """What the tests look at: tags, attributes, sections, tables and text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []  # (tag, name, value)
        self.sections: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.chunks: list[str] = []
        self._cell: list[str] | None = None
        self._svg = 0
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend((tag, k, v or "") for k, v in attrs)
        if tag == "svg":
            self._svg += 1
        if tag == "section":
            self.sections.append(dict(attrs).get("id", ""))
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "svg":
            self._svg -= 1
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._svg:
            return
        self.chunks.append(data)
        if self._cell is not None:
            self._cell.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.chunks).split())

    def table(self, first_header: str) -> list[list[str]]:
        return next(t for t in self.tables if t and t[0] and t[0][0] == first_header)


@pytest.fixture
def second_fixed(tmp_path) -> str:
    """Another fixed prior set: a court that rarely orders executions."""
    text = Path(FIXED).read_text().replace('id = "squad_fixed"', 'id = "lenient"').replace(
        "[nodes.court_order]\nbase = 0.5", "[nodes.court_order]\nbase = 0.1").replace(
        'summary = "Near-deterministic mechanisms with a fair court."',
        'summary = "A lenient court <rarely> orders & executes."')
    path = tmp_path / "lenient.toml"
    path.write_text(text)
    return str(path)


@pytest.fixture
def report_file(tmp_path, second_fixed) -> Path:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", SQUAD, "-p", FIXED, "-p", second_fixed, "-o",
                                 str(out), "--hdi-prob", "0.9"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {out}\n"
    return out


def sha256(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_the_report_has_every_section_and_is_offline(report_file):
    page = Page(report_file.read_text("utf-8"))
    assert page.sections == SECTIONS
    assert page.tags.count("img") == 2  # the graph and the forest plot
    for forbidden in ("script", "link", "iframe", "object", "embed"):
        assert forbidden not in page.tags
    for tag, name, value in page.attrs:
        if name in ("src", "href", "xlink:href", "action", "srcset", "data"):
            assert not value.lower().startswith(("http:", "https:", "//")), (tag, name, value)
            # in-page references, or the pictures themselves as data: SVG images
            assert value.startswith(("#", "data:image/svg+xml;base64,")), (tag, name, value)
        assert "url(http" not in value.replace(" ", "").lower()
    text = report_file.read_text("utf-8")
    assert "http://" not in text and "https://" not in text
    pictures = [base64.b64decode(v.split(",", 1)[1]) for tag, name, v in page.attrs
                if tag == "img" and name == "src"]
    assert len(pictures) == 2 and all(b"<svg" in svg[:2000] for svg in pictures)
    assert "@import" not in text
    ids = [v for _, name, v in page.attrs if name == "id"]
    assert len(ids) == len(set(ids))  # the two pictures' ids do not clash


def test_the_report_tells_the_question_the_ranking_and_the_sources(report_file,
                                                                     second_fixed):
    page = Page(report_file.read_text("utf-8"))
    s = load_scenario(SQUAD)
    text = page.text
    assert page.tags.count("h1") == 1 and "Pearl's firing squad" in text
    assert "The prisoner dies" in text and s.description in text
    ranking = page.table("rank")
    assert ranking[0] == ["rank", "POD", "squad_fixed", "lenient", "linear pool", "90% HDI",
                          "POD chance", "route", "P(first)", "90% rank interval", "rewrite"]
    assert len(ranking) == 1 + 1 + len(s.pods)  # header, history, one row per POD
    assert ranking[1][0] == "-" and ranking[1][1].startswith("history")
    assert [row[0] for row in ranking[2:]] == ["1", "2"]
    pool = [float(row[4]) for row in ranking[2:]]
    assert pool == sorted(pool, reverse=True)
    for p in s.pods:
        assert f"{p.label} {p.id}" in text and "#1 Pearl" in text
    assert "A soft POD: A's resolve is shaken, not removed." in text
    claims = page.table("cause → effect")
    assert len(claims) == 1 + len(s.edges)
    assert claims[1][:4] == ["court_order → captain",
                             "The captain signals when the court orders it.", "#1 Pearl", "-"]
    sets = page.table("id")
    assert [row[0] for row in sets[1:]] == ["squad_fixed", "lenient"]
    assert sets[2][2] == "A lenient court <rarely> orders & executes."  # escaped, read back
    assert sum(float(row[7].split(" ± ")[0]) for row in sets[1:]) == pytest.approx(1, abs=2e-3)
    diagnostics = page.table("run")
    assert diagnostics[1:] == [["squad_fixed", "exact", "-", "-", "-",
                                "yes (nothing to sample)"],
                               ["lenient", "exact", "-", "-", "-", "yes (nothing to sample)"]]
    for head, body in ASSUMPTIONS:
        assert head in text and body in text
    assert "comonotone" in text and "logistic independent causal influence" in text


def test_the_report_says_how_to_reproduce_it(report_file, second_fixed):
    page = Page(report_file.read_text("utf-8"))
    assert (f"plausibly report {SQUAD} -p {FIXED} -p {second_fixed} --pool linear "
            f"--draws {D.DRAWS} --tune {D.TUNE} --chains 2 --seed 20171107 --hdi-prob 0.9 "
            f"-o {report_file}") in page.text
    files = page.table("input")
    assert files[1:] == [["scenario", "firing_squad", SQUAD, sha256(SQUAD)],
                         ["prior set", "squad_fixed", FIXED, sha256(FIXED)],
                         ["prior set", "lenient", second_fixed, sha256(second_fixed)]]
    packages = dict(page.table("package")[1:])
    assert packages["plausibly"] == version("plausibly")
    assert packages["pymc"] == version("pymc")


def test_text_from_files_is_escaped(tmp_path):
    evil = tmp_path / "evil.toml"
    evil.write_text(Path(SQUAD).read_text().replace(
        'title = "Pearl\'s firing squad"',
        'title = "Squad <script>alert(1)</script> & <a href=\\"https://x.example\\">co</a>"'
    ).replace('claim = "A\'s shot kills."', 'claim = "A\'s shot <b>kills</b>."'))
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(evil), "-p", FIXED, "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = Page(out.read_text("utf-8"))
    assert "script" not in page.tags and "a" not in page.tags and "b" not in page.tags
    assert 'Squad <script>alert(1)</script> & <a href="https://x.example">co</a>' in page.text
    assert "A's shot <b>kills</b>." in page.text


def test_same_inputs_same_bytes(tmp_path, report_file, second_fixed):
    again = tmp_path / "again.html"
    runner.invoke(app, ["report", SQUAD, "-p", FIXED, "-p", second_fixed, "-o", str(again),
                        "--hdi-prob", "0.9"])
    assert again.read_text().replace(str(again), "X") == \
        report_file.read_text().replace(str(report_file), "X")


def test_log_pool_and_chosen_pods(tmp_path, second_fixed):
    out = tmp_path / "log.html"
    result = runner.invoke(app, ["report", SQUAD, "-p", FIXED, "-p", second_fixed, "--pool",
                                 "log", "--pod", "a_refrains", "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = Page(out.read_text("utf-8"))
    assert [row[0] for row in page.table("run")[1:]] == ["squad_fixed", "lenient", "log_pool"]
    assert "The log pool does not use these weights" in page.text
    assert len(page.table("rank")) == 3  # header, history, a_refrains
    assert "Not asked in this report (see --pod)." in page.text
    assert "--pool log --pod a_refrains" in page.text


def test_bad_requests_exit_2(tmp_path, report_file):
    again = runner.invoke(app, ["report", SQUAD, "-p", FIXED, "-o", str(report_file)])
    assert again.exit_code == 2
    assert again.stderr == (f"error: 1 problem\n{report_file}: exists already\n"
                            "    fix: choose another name, or add --force to overwrite it\n")
    forced = runner.invoke(app, ["report", SQUAD, "-p", FIXED, "-o", str(report_file),
                                 "--force"])
    assert forced.exit_code == 0
    txt = tmp_path / "r.txt"
    wrong = runner.invoke(app, ["report", SQUAD, "-p", FIXED, "-o", str(txt)])
    assert wrong.exit_code == 2
    assert wrong.stderr == (f"error: 1 problem\n{txt}: unknown output type '.txt'\n"
                            "    fix: use one of: .htm, .html\n")
    out = tmp_path / "r.html"
    pod = runner.invoke(app, ["report", SQUAD, "-p", FIXED, "--pod", "a_refrain", "-o",
                              str(out)])
    assert pod.exit_code == 2
    assert pod.stderr == (
        f"error: 1 problem\n{SQUAD}: pods.a_refrain: unknown POD 'a_refrain' (did you mean "
        "'a_refrains'?)\n    fix: use one of: a_refrains, a_half_hearted\n")
    pool = runner.invoke(app, ["report", SQUAD, "-p", FIXED, "--pool", "geometric", "-o",
                               str(out)])
    assert pool.exit_code == 2
    assert "Invalid value for '--pool'" in pool.stderr and "'geometric'" in pool.stderr
    weights = runner.invoke(app, ["report", SQUAD, "-p", FIXED, "--weight", "1", "--weight",
                                  "2", "-o", str(out)])
    assert weights.exit_code == 2
    assert weights.stderr == ("error: 1 problem\n--weight: 2 weights for 1 prior set\n"
                              "    fix: give one --weight per -p, in the same order, or none\n")
    assert not out.exists()
    for r in (again, wrong, pod, pool, weights):
        assert "Traceback" not in r.output


def test_an_unconverged_comparison_is_flagged_at_the_top(second_fixed):
    s = load_scenario(SQUAD)
    sets = load_prior_sets(s, [FIXED, second_fixed])
    c = compare(s, [f for _, f in sets])
    bad = Diagnostics(1.05, 120.0, 80.0, 3)
    c = dataclasses.replace(c, runs=(dataclasses.replace(c.runs[0], diagnostics=bad),
                                     *c.runs[1:]))
    page = Page(render_report(c, sets, ReportRequest(scenario=SQUAD)))
    warning = page.text[page.text.index("Sampling did not converge"):]
    assert warning.startswith("Sampling did not converge (squad_fixed: max R-hat 1.050 > 1.01, "
                              "min bulk ESS 120 < 400, min tail ESS 80 < 400, 3 divergent "
                              "transitions). The numbers below are not trustworthy")
    assert page.table("run")[1][5].startswith("NO: max R-hat 1.050 > 1.01")


def test_build_report_returns_the_comparison_and_its_diagnostics():
    report = build_report(ReportRequest(scenario=SQUAD, priors=(FIXED,),
                                        settings=Settings(seed=3)))
    assert report.converged and list(report.diagnostics) == ["squad_fixed"]
    assert report.comparison.scenario.id == "firing_squad"
    assert "--seed 3" in report.html


@pytest.mark.slow
def test_unconverged_sampling_writes_the_report_and_exits_3(tmp_path):
    out = tmp_path / "r.html"
    # 2 x 10 draws: far below 400 effective draws (one chain is refused outright)
    args = ["report", SQUAD, "-p", JUDGED, "--draws", "10", "--tune", "10", "--chains", "2",
            "--seed", "2", "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 3
    assert "UNCONVERGED squad: " in result.stderr
    assert result.stderr.rstrip().endswith("pass --allow-unconverged to accept the numbers "
                                           "(exit 3)")
    page = Page(out.read_text("utf-8"))
    assert page.text.index("Sampling did not converge") < page.text.index("The question")
    allowed = runner.invoke(app, [*args, "--force", "--allow-unconverged"])
    assert allowed.exit_code == 0, allowed.output


def test_chromium_renders_the_report(tmp_path, report_file):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium binary on PATH")
    shot = tmp_path / "shot.png"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,2000",
         f"--screenshot={shot}", report_file.resolve().as_uri()],
        capture_output=True, timeout=120, check=True)
    import matplotlib.image

    pixels = np.asarray(matplotlib.image.imread(str(shot)), dtype=float)[..., :3]
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1000
    assert pixels.std() > 0.05  # not a blank page
    dark = (pixels.mean(axis=-1) < 0.5).mean()
    assert 0.005 < dark < 0.5  # text and pictures on a light page


def test_the_graph_is_shown_at_its_natural_size_and_its_labels_read_at_100_percent(
        report_file):
    """Not scaled down to the page: in a box that scrolls sideways, its node text >= 10 px."""
    html = report_file.read_text("utf-8")
    css = html[html.index("<style>"):html.index("</style>")]
    assert ".scroll{overflow-x:auto" in css and "figure.natural img{max-width:none" in css
    found = re.search(r'<figure class="natural"><div class="scroll"><img src="data:image/svg'
                      r'\+xml;base64,([^"]+)" alt="causal graph of ', html)
    assert found is not None
    svg = base64.b64decode(found[1]).decode("utf-8")
    width_pt = float(re.search(r'<svg[^>]* width="([\d.]+)pt"', svg)[1])
    view_width = float(re.search(r'<svg[^>]* viewBox="0 0 ([\d.]+) ', svg)[1])
    px_per_unit = width_pt * 4 / 3 / view_width  # an <img> of an SVG in pt: 1 pt = 4/3 px
    # each line of text: a comment with the line, then its glyphs scaled from a 100-unit em
    lines = {html_unescape(text): float(scale) for text, scale in re.findall(
        r"<!-- (.*?) -->\s*<g transform=\"translate\([^)]*\) scale\(([\d.]+) -", svg)}
    s = load_scenario(SQUAD)
    for n in s.nodes:
        words = [line for line in lines if line in n.label]
        assert " ".join(words).split() == n.label.split(), n.label  # the label, whole
        for line in words:
            assert 100 * lines[line] * px_per_unit >= 10, (line, lines[line])
    assert not any(n.id in lines or n.id.replace("_", " ") in lines for n in s.nodes)


@pytest.fixture
def v2_fixed(tmp_path) -> str:
    """v2_small_priors.toml with every judgement fixed at its median: answered exactly."""
    text = re.sub(r"\[([\d.]+), ([\d.]+), ([\d.]+)\]", r"\2",
                  (DATA / "v2_small_priors.toml").read_text("utf-8"))
    text = text.replace('id = "v2_school"', 'id = "v2_fixed"').replace(
        "[nodes.democracy_1930]\n", "[nodes.democracy_1930]\nbase = 0.05\n")
    path = tmp_path / "v2_fixed.toml"
    path.write_text(text + '\n[nodes.centralism]\nbase = 0.7\nwhy = "Fixed."\n', "utf-8")
    return str(path)


def test_every_outcome_has_its_section_table_apart_list_and_forest_plot(v2_fixed):
    s = load_scenario(V2)
    sets = load_prior_sets(s, [v2_fixed])
    c = compare(s, [f for _, f in sets])
    assert c.diagnostics["v2_fixed"].exact  # nothing sampled: the test stays cheap
    html = render_report(c, sets, ReportRequest(scenario=V2, priors=(v2_fixed,)))
    page = Page(html)
    assert page.sections == SECTIONS
    assert ("How plausible is it that A democratic USSR in 1930 ( democracy_1930 , the "
            "headline) or that The regime of 1930 (at least open party) "
            "( regime_1930>=open_party ), had history diverged at one point?") in page.text
    ranking = html[html.index('<section id="ranking">'):html.index('<section id="pods">')]
    # one part per outcome, the headline first, each with its table, its PODs out of
    # scope apart and its own forest plot
    ids = ["outcome-democracy_1930", "outcome-regime_1930-open_party"]
    starts = [ranking.index(f'<article class="outcome" id="{i}">') for i in ids]
    assert starts == sorted(starts)
    parts = [ranking[starts[0]:starts[1]], ranking[starts[1]:]]
    for name, part in zip(V2_OUTCOMES, parts, strict=True):
        one = Page(part)
        assert one.text.startswith(f"P({name}): ")
        table = one.table("rank")
        assert table[0] == ["rank", "POD", "v2_fixed", "linear pool", "94% HDI", "POD chance",
                            "route", "P(first)", "94% rank interval", "rewrite"]
        order = ["history", *c.summarize().outcomes[name].ranking]
        assert len(table) == 1 + len(order)
        assert all(row[1].startswith(pod) for row, pod in zip(table[1:], order, strict=True))
        assert "no_soviets" not in " ".join(row[1] for row in table)  # never ranked
        assert ("Out of scope (the POD removes the question; shown apart, never ranked): "
                f"no_soviets No soviet government at all: P({name}) = ") in one.text
        assert "Posts: #14 Ned." in one.text
        pictures = [v for tag, k, v in one.attrs if tag == "img" and k == "src"]
        assert len(pictures) == 1
        svg = base64.b64decode(pictures[0].split(",", 1)[1]).decode("utf-8")
        assert f"P({name.replace('>', '&gt;')})" in svg  # the plot of this outcome
        assert f'alt="forest plot of P({name.replace(">", "&gt;")})"' in part
    assert "(the headline)" in parts[0] and "(the headline)" not in parts[1]
    # the graph's caption says how gates, interactions and states are drawn
    caption = page.text[page.text.index("Events by year"):]
    for words in ("with the one that happened in brackets", "dashed grey line ending in an "
                  "open circle", "dotted lines from each of its causes"):
        assert words in caption
    claims = page.table("cause → effect")  # gates and interactions are claims too
    assert ["civil_war → war_communism", "Only a long war makes war communism necessary.",
            "#2 Bob", "-", "gate (at least long)"] in claims
    assert claims[-1][0] == "civil_war & centralism → party_brutalized"
    for name in V2_OUTCOMES:  # every POD's answer for every outcome, out of scope ones too
        assert page.text.count(f"P({name}) = ") == 2 + 3


def html_unescape(text: str) -> str:
    from html import unescape

    return unescape(text)
