"""Placeholder: being written (routes for service.credentials)."""

from fastapi import APIRouter

router = APIRouter()
public_router = APIRouter()
