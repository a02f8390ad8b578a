"""Data files shipped with the package (the fitted confidence models: confidence.json)."""
