"""Speed targets: ``make bench`` runs every ``bench_*.py`` here."""
