"""Default QGIS styles kept in the project file (the GeoPackage ``layer_styles`` convention QGIS reads).

Opened in QGIS, the territories layer would otherwise be a black stack of every scenario and level. The
style we store is a rule-based renderer that draws only the territories of the active scenario, each
filled with its own ``colour`` and labelled with its name; units get thin grey outlines. A style the user
saved in QGIS as the default for a layer is never replaced: ours is then kept as an alternative.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import Connection

from . import gpkg

STYLE_NAME = "Territory Desktop"

_TABLE = """CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
    f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
    useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""

def _symbol(kind: str, layer_class: str, options: dict[str, str], alpha: str = "1", properties: str = "") -> str:
    """A QGIS symbol of one layer (``kind`` fill/marker, ``layer_class`` SimpleFill/SimpleMarker) whose
    ``options`` are QString options, and data-defined ``properties`` (an Option map, or none)."""
    rows = "\n".join(f'          <Option name="{k}" type="QString" value="{v}"/>' for k, v in options.items())
    defined = f"""
        <data_defined_properties>
          <Option type="Map">
            <Option name="name" type="QString" value=""/>
            {properties}
            <Option name="type" type="QString" value="collection"/>
          </Option>
        </data_defined_properties>""" if properties or kind == "fill" else ""
    return (f'<symbol type="{kind}" name="0" alpha="{alpha}" clip_to_extent="1" force_rhr="0">\n'
            f'      <layer class="{layer_class}" enabled="1" pass="0" locked="0">\n        <Option type="Map">\n'
            f"{rows}\n        </Option>{defined}\n      </layer>\n    </symbol>")


def _fill(fill: str, outline: str, width: str, style: str = "solid", alpha: str = "1", properties: str = "") -> str:
    return _symbol("fill", "SimpleFill", {"color": fill, "outline_color": outline, "outline_style": "solid",
                                          "outline_width": width, "outline_width_unit": "MM", "style": style},
                   alpha, properties)


def _marker(fill: str, size: str) -> str:
    return _symbol("marker", "SimpleMarker", {"color": fill, "name": "circle", "outline_color": "35,35,35,255",
                                              "size": size, "size_unit": "MM"})


_COLOUR_FROM_FIELD = """<Option name="properties" type="Map">
              <Option name="fillColor" type="Map">
                <Option name="active" type="bool" value="true"/>
                <Option name="field" type="QString" value="colour"/>
                <Option name="type" type="int" value="2"/>
              </Option>
            </Option>"""

_LABELS = """<labeling type="simple">
    <settings calloutType="simple">
      <text-style fieldName="name" isExpression="0" fontSize="9" fontSizeUnit="Point" textColor="30,30,30,255"
                  fontFamily="DejaVu Sans" namedStyle="Bold" textOpacity="1">
        <text-buffer bufferDraw="1" bufferSize="1" bufferSizeUnits="MM" bufferColor="255,255,255,255"
                     bufferOpacity="0.8"/>
      </text-style>
      <placement placement="1" fitInPolygonOnly="0" centroidWhole="1" centroidInside="1"/>
      <rendering obstacle="1" displayAll="0" limitNumLabels="0" scaleVisibility="0"/>
    </settings>
  </labeling>"""


def territories_qml(scenario_id: str) -> str:
    """The territories layer's style: active scenario's territories in their colours, labelled."""
    rule = f"\"level\" = 'territory' AND \"scenario_id\" = '{scenario_id.replace(chr(39), chr(39) * 2)}'"
    symbol = _fill("190,190,190,255", "50,50,50,255", "0.5", alpha="0.8", properties=_COLOUR_FROM_FIELD)
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.0" styleCategories="Symbology|Labeling">
  <renderer-v2 type="RuleRenderer" symbollevels="0" enableorderby="0" forceraster="0">
    <rules key="{{territory-desktop-root}}">
      <rule key="{{territory-desktop-territories}}" symbol="0" filter={quoteattr(rule)}
            label={quoteattr("Territories of scenario " + scenario_id)}/>
    </rules>
    <symbols>
    {symbol}
    </symbols>
  </renderer-v2>
  {_LABELS}
  <layerGeometryType>2</layerGeometryType>
</qgis>
"""


def _single_symbol_qml(symbol: str, geometry_type: int, labels: str = "") -> str:
    """A QGIS style drawing every feature with ``symbol`` (and ``labels``, a <labeling> element)."""
    categories = "Symbology|Labeling" if labels else "Symbology"
    labelling = f"\n  {labels}" if labels else ""
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.0" styleCategories="{categories}">
  <renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">
    <symbols>
    {symbol}
    </symbols>
  </renderer-v2>{labelling}
  <layerGeometryType>{geometry_type}</layerGeometryType>
</qgis>
"""


def units_qml() -> str:
    """The units layer's style: no fill, thin grey outlines (the territories draw the colour)."""
    return _single_symbol_qml(_fill("255,255,255,0", "150,150,150,255", "0.15", style="no"), 2)


def write_default_styles(conn: Connection, active_scenario: str) -> None:
    """Store (or bring up to date) our styles for the territories and units layers."""
    conn.exec_driver_sql(_TABLE)
    gpkg.register_layer(conn, "layer_styles", None, "QGIS layer styles (Territory Desktop keeps its own "
                        f"'{STYLE_NAME}' style for territories and units)")
    description = f"Written by Territory Desktop for scenario {escape(active_scenario)}"
    for table, qml in (("territories", territories_qml(active_scenario)), ("units", units_qml())):
        row = conn.exec_driver_sql("SELECT id, styleQML FROM layer_styles WHERE f_table_name = ? AND styleName = ?",
                                   (table, STYLE_NAME)).first()
        theirs = conn.exec_driver_sql(
            "SELECT 1 FROM layer_styles WHERE f_table_name = ? AND useAsDefault AND styleName IS NOT ?",
            (table, STYLE_NAME)).first()
        if row is None:
            _insert_style(conn, table, qml, not theirs, description)
        elif row[1] != qml:
            conn.exec_driver_sql("UPDATE layer_styles SET styleQML = ?, description = ?, "
                                 "update_time = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?",
                                 (qml, description, row[0]))


def _insert_style(conn: Connection, table: str, qml: str, default: bool, description: str) -> None:
    conn.exec_driver_sql(
        "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
        "styleName, styleQML, styleSLD, useAsDefault, description, owner, ui) "
        "VALUES ('', '', ?, 'geom', ?, ?, '', ?, ?, '', '')",
        (table, STYLE_NAME, qml, 1 if default else 0, description))


def package_styles() -> dict[str, str]:
    """QGIS styles of a field package's GeoPackage layers (QField reads the default style of a layer)."""
    territory = _fill("47,111,176,40", "47,111,176,255", "0.6")
    stops = _LABELS.replace('fieldName="name"', 'fieldName="sequence"')
    return {"territory": _single_symbol_qml(territory, 2, _LABELS), "units": units_qml(),
            "accounts": _single_symbol_qml(_marker("62,189,147,255", "2.2"), 0),
            "planned_visits": _single_symbol_qml(_marker("47,111,176,255", "3.2"), 0, stops)}


def write_package_styles(conn: Connection) -> None:
    """The layer_styles table of a new field-package GeoPackage, one default style per layer."""
    conn.exec_driver_sql(_TABLE)
    gpkg.register_layer(conn, "layer_styles", None, "QGIS layer styles of the field package")
    for table, qml in package_styles().items():
        _insert_style(conn, table, qml, True, "Written by Territory Desktop for a field package")
