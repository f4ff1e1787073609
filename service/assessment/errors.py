"""Errors of the assessment domain (rendered like every :class:`~service.core.errors.ServiceError`)."""

from __future__ import annotations

from service.core.errors import ServiceError


class InvalidAssessmentRequest(ServiceError):
    """The request cannot be carried out as asked (422): an achievement without a rubric, a
    credential to renew for another achievement, a level override the rubric does not have..."""

    status_code, code = 422, "invalid_assessment_request"
