"""Placeholder: being written (routes for service.verification)."""

from fastapi import APIRouter

router = APIRouter()
public_router = APIRouter()
