"""Placeholder: being written (routes for service.achievements)."""

from fastapi import APIRouter

router = APIRouter()
public_router = APIRouter()
