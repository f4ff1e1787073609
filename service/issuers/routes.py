"""Placeholder: being written (routes for service.issuers)."""

from fastapi import APIRouter

router = APIRouter()
public_router = APIRouter()
