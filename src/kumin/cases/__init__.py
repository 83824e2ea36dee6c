"""Notification records (HER-SYS exports): import, line-list summary, research
contracts, minimised releases and their disposal.

Pure core (no database): :mod:`~kumin.cases.dates`, :mod:`~kumin.cases.codes`,
:mod:`~kumin.cases.profiles`, :mod:`~kumin.cases.parse`, :mod:`~kumin.cases.minimise`.
Storage and services: :mod:`~kumin.cases.models`, :mod:`~kumin.cases.imports`,
:mod:`~kumin.cases.service` (``import_cases``, ``case_frame``, ``summary``),
:mod:`~kumin.cases.contracts`, :mod:`~kumin.cases.releases`,
:mod:`~kumin.cases.reports`, :mod:`~kumin.cases.housekeeping`.
Surfaces: :mod:`~kumin.cases.cli`, :mod:`~kumin.cases.web`; demo data in
:mod:`~kumin.cases.demo`.
"""
