"""Assessments: evidence bundles judged against rubrics, human review, appeals, and issuing."""
