"""The map page in headless chromium against `blackout serve`: trip a 765 kV line, watch."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

_BRANCH_PIXEL = """(name) => {
  const v = window.blackoutView;
  const f = v.fc.features.find((g) => g.properties.layer === "branch" && g.properties.name === name);
  const c = f.geometry.coordinates;
  const p = v.map.project([(c[0][0] + c[1][0]) / 2, (c[0][1] + c[1][1]) / 2]);
  const r = v.map.getContainer().getBoundingClientRect();
  return [r.left + p.x, r.top + p.y, f.properties.id];
}"""


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

    x, y, branch_id = page.evaluate(_BRANCH_PIXEL, "Guri-Malena 765 kV 1")
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
    assert page.inner_text("#clock").startswith("t = ")
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
