"""The project file in QGIS itself, when Debian's python3-qgis is installed (it is not part of the test
set-up: 259 packages; the GDAL tests in test_gis_interop.py cover the file format in CI)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from territory_desktop.services.project import save_project

SCRIPT = r"""
import json, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
path = sys.argv[1]
terr = QgsVectorLayer(f"{path}|layername=territories", "territories", "ogr")
asg = QgsVectorLayer(f"{path}|layername=assignments", "assignments", "ogr")
caps = asg.dataProvider().capabilities()
print(json.dumps({"valid": terr.isValid(), "renderer": terr.renderer().type(),
                  "filters": [r.filterExpression() for r in terr.renderer().rootRule().children()],
                  "labels": terr.labelsEnabled(),
                  "assignments_editable": bool(caps & asg.dataProvider().ChangeAttributeValues)}))
app.exitQgis()
"""


def _have_qgis() -> bool:
    probe = subprocess.run(["/usr/bin/python3", "-c", "import qgis.core"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not Path("/usr/bin/python3").exists() or not _have_qgis(), reason="python3-qgis not installed")
def test_qgis_opens_the_territories_styled_and_the_assignments_editable(grid_project, tmp_path):
    path = tmp_path / "p.gpkg"
    save_project(grid_project, path)
    out = subprocess.run(["/usr/bin/python3", "-c", SCRIPT, str(path)], capture_output=True, text=True,
                         timeout=120, env={k: v for k, v in os.environ.items()
                                           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}, check=False)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"valid": True, "renderer": "RuleRenderer",
                      "filters": ["\"level\" = 'territory' AND \"scenario_id\" = 'base'"], "labels": True,
                      "assignments_editable": True}
