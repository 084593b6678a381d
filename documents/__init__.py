"""Output documents: the consolidated report (.docx), charts (PNG) and native Excel charts.

A leaf package: it imports nothing of ours. Every function is pure, from the plain frozen
dataclasses of :mod:`documents.model` to bytes (or to a workbook it is handed), so the caller
reads the database and this package only lays the data out.
"""
