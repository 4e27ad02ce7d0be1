"""Reference data shipped with the app (CSV, UTF-8): the demo data set and import templates."""
