"""Analyses: pure Ibis expressions over the canonical tables, executed by ``permadani.engine.Engine``.

``audit.audit`` runs every section listed in ``audit.SECTIONS`` and writes a results folder.
"""
