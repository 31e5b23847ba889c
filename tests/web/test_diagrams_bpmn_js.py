"""Every file of processes/ opened in bpmn-js (the viewer the web UI and Camunda Modeler are
built on), in Debian's chromium: no import warning, and a PNG of each picture kept under
var/artifacts/diagrams/ for people to look at."""

from __future__ import annotations

import json

import pytest

from tests.helpers import ROOT

PROCESSES = sorted((ROOT / "processes").glob("*.bpmn"))
BPMN_JS = ROOT / "web" / "node_modules" / "bpmn-js" / "dist"
ARTIFACTS = ROOT / "var" / "artifacts" / "diagrams"


@pytest.fixture(scope="module")
def viewer_page(browser, web_dist):
    script = BPMN_JS / "bpmn-viewer.production.min.js"
    if not script.exists():
        pytest.skip("web/node_modules is missing: run scripts/build_web.sh")
    page = browser.new_page(viewport={"width": 1600, "height": 900})
    page.set_content(
        '<html><body style="margin:0"><div id="canvas" style="width:100vw;height:100vh">'
        "</div></body></html>"
    )
    for css in ("diagram-js.css", "bpmn-js.css"):
        page.add_style_tag(path=str(BPMN_JS / "assets" / css))
    page.add_script_tag(path=str(script))
    page.evaluate("window.viewer = new BpmnJS({ container: '#canvas' })")
    yield page
    page.close()


@pytest.mark.parametrize("path", PROCESSES, ids=lambda p: p.stem)
def test_bpmn_js_imports_the_diagram_without_warnings(viewer_page, path):
    xml = path.read_text(encoding="utf-8")
    result = viewer_page.evaluate(
        """async (xml) => {
            const { warnings } = await window.viewer.importXML(xml);
            const canvas = window.viewer.get('canvas');
            const box = canvas.getActiveLayer().getBBox();
            return {
                warnings: warnings.map((w) => w.message),
                box: { x: box.x, y: box.y, width: box.width, height: box.height },
                elements: window.viewer.get('elementRegistry').getAll().length,
            };
        }""",
        xml,
    )
    assert result["warnings"] == []
    assert result["elements"] > 10
    box = result["box"]
    width, height = int(box["width"]) + 40, int(box["height"]) + 40
    viewer_page.set_viewport_size({"width": min(width, 6000), "height": min(height, 4000)})
    viewer_page.evaluate(
        "(b) => window.viewer.get('canvas').viewbox(b)",
        {"x": box["x"] - 20, "y": box["y"] - 20, "width": width, "height": height},
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    viewer_page.screenshot(path=str(ARTIFACTS / f"{path.stem}.png"))
    (ARTIFACTS / f"{path.stem}.json").write_text(json.dumps(result, ensure_ascii=False))
