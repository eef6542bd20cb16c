"""The project file (GeoPackage through SQLAlchemy), migrations, and importers of GIS/CSV/XLSX files."""
