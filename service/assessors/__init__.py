"""The assessment engine: rubrics, evidence bundles and the assessors that judge one against the other.

Like :mod:`service.vc`, this package knows no web framework and no database: the assessment domain
(:mod:`service.assessment`) and the ``skillcred assess`` command feed it an :class:`EvidenceBundle`
and a :class:`Rubric` and get an :class:`Assessment` back.
"""
