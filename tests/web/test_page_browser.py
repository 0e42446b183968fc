"""The map page in headless chromium against `blackout serve`: trip a 765 kV line, watch."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

def _open(server: str, browser: Any) -> tuple[Any, list[str], list[str]]:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    outside: list[str] = []
    errors: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(server + "/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server + "/")
    page.wait_for_function("document.body.dataset.state === 'idle'", timeout=30_000)
    return page, outside, errors


def test_trip_guri_malena_animates_the_cascade(server: str, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    outside: list[str] = []
    errors: list[str] = []

    def only_local(route: Any) -> None:
        url = route.request.url
        if url.startswith(server + "/"):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", only_local)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server + "/")
    page.wait_for_function("document.body.dataset.state === 'idle'", timeout=30_000)

    # the 24 regions are drawn (rendered on the canvas, not only loaded)
    assert page.evaluate("document.body.dataset.regions") == "24"
    drawn = page.evaluate("new Set(window.blackoutView.map.queryRenderedFeatures("
                          "{layers: ['region-fill']}).map((f) => f.id)).size")
    assert drawn == 24

    x, y, branch_id = page.evaluate("(n) => window.blackoutView.branchPoint(n)",
                                    "Guri-Malena 765 kV 1")
    page.mouse.click(x, y)
    page.wait_for_function("document.querySelectorAll('#selection li').length === 1")
    assert re.search(r"branch Guri-Malena 765 kV [123]", page.inner_text("#selection"))

    page.click("#trip")
    page.wait_for_function("['running', 'animating'].includes(document.body.dataset.state)")
    page.wait_for_function("document.body.dataset.state === 'animating'", timeout=60_000)
    page.wait_for_function("document.body.dataset.state === 'done'", timeout=60_000)

    events = page.locator("#events li")
    assert events.count() >= 1
    assert re.search(r"Guri-Malena 765 kV [123] trip: user", events.first.inner_text())
    assert re.fullmatch(r"\d+ of 24 regions dark", page.inner_text("#dark-count"))
    assert re.match(r"\d\d:\d\d:\d\d · t = ", page.inner_text("#clock"))
    # the tripped branch has vanished from the map
    out = page.evaluate("(id) => window.blackoutView.map.getFeatureState("
                        "{source: 'branch', id}).out", branch_id)
    selected = page.evaluate("[...window.blackoutView.selection.values()][0].id")
    assert page.evaluate("(id) => window.blackoutView.map.getFeatureState("
                         "{source: 'branch', id}).out", selected) is True
    assert out in (True, None)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-trip-guri-malena.png"))
    assert outside == [], f"requests left 127.0.0.1: {outside}"
    assert errors == [], errors
    page.close()


def test_two_parallel_circuits_picked_apart_and_dead_lines_grey(server: str,
                                                                browser: Any) -> None:
    """The 7 March case by clicking: Guri-Malena 765 kV 1, then 2 (drawn side by side on
    one corridor), tripped together: the country goes dark and dead lines turn grey."""
    page, outside, errors = _open(server, browser)
    # the scenario list holds only this case's scenarios, the default one chosen
    assert page.eval_on_selector("#scenario-select", "s => s.value") == (
        "venezuela-2019-03-07-fire")
    assert page.eval_on_selector_all(
        "#scenario-select option:not([hidden])", "os => os.length") >= 1
    picked = []
    for name in ("Guri-Malena 765 kV 1", "Guri-Malena 765 kV 2"):
        x, y, _ = page.evaluate("(n) => window.blackoutView.branchPoint(n)", name)
        page.mouse.move(x, y)
        page.wait_for_function("(n) => document.getElementById('tooltip').dataset.name === n",
                               arg=name)
        assert page.is_visible("#tooltip")
        page.mouse.click(x, y)
        picked.append(name)
        page.wait_for_function("(k) => document.querySelectorAll('#selection li').length === k",
                               arg=len(picked))
    assert page.inner_text("#selection").splitlines() == [f"branch {n}" for n in picked]
    # substation labels drawn from the buses (no glyphs needed)
    assert page.locator(".substation-label:not([hidden])", has_text="Guri").count() >= 1
    page.click("#trip")
    page.wait_for_function("document.body.dataset.state === 'done'", timeout=90_000)
    assert int(page.get_attribute("#dark-count", "data-dark") or 0) > 20
    state = page.evaluate("""() => {
      const v = window.blackoutView, m = v.map;
      const ids = v.map.blackoutBranches.map((f) => f.properties.id);
      const st = ids.map((id) => m.getFeatureState({source: 'branch', id}));
      return {dead: st.filter((s) => s.dead).length, out: st.filter((s) => s.out).length,
              colour: m.getPaintProperty('branch', 'line-color')};
    }""")
    assert state["dead"] > 20 and state["out"] >= 2
    dead_id = page.evaluate("""() => window.blackoutView.result.result.frames.at(-1)
                                      .branches_dead[0]""")
    # the paint expression draws a dead branch in the de-energised grey
    assert "#6b7280" in str(state["colour"])
    rendered = page.evaluate("""(id) => window.blackoutView.map.queryRenderedFeatures(
        {layers: ['branch']}).filter((f) => f.id === id).map((f) => f.state.dead)""", dead_id)
    assert rendered and all(rendered)
    # scrub back to the start: the lines are live again
    page.eval_on_selector("#scrub", "s => { s.value = 0; s.dispatchEvent(new Event('input')); }")
    assert page.evaluate("(id) => window.blackoutView.map.getFeatureState("
                         "{source: 'branch', id}).dead", dead_id) is False
    ARTIFACTS.mkdir(exist_ok=True)
    page.eval_on_selector("#scrub", "s => { s.value = s.max; s.dispatchEvent(new Event('input')); }")
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "web-two-circuits-dark.png"))
    assert outside == [] and errors == [], (outside, errors)
    page.close()


def test_api_docs_render_offline(server: str, browser: Any) -> None:
    """/docs: Swagger UI served from the swagger-ui-bundle package, no CDN."""
    page = browser.new_page()
    outside: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(server + "/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(server + "/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    assert page.locator(".swagger-ui .opblock").count() >= 5
    assert "/api/runs" in page.inner_text(".swagger-ui")
    assert outside == [], outside
    page.close()
