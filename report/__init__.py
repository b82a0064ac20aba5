"""From raw trials to the report: load (tidy table), analysis (statistics),
book (published numbers), figures (SVG), render (HTML), pdf (its PDF)."""
