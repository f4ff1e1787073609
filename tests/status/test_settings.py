"""Status list settings: lists of at least 131,072 entries, handed out to at most nine tenths."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.core.config import Settings


def test_the_defaults_are_a_minimum_size_list_three_quarters_used_re_signed_every_five_minutes():
    settings = Settings(_env_file=None)

    assert settings.status_list_size == 131_072
    assert settings.effective_status_list_capacity == 98_304
    assert settings.status_list_resign_interval_seconds == 300
    assert settings.status_list_background_resign is True


@pytest.mark.parametrize(
    "values",
    [
        {"status_list_size": 131_071},
        {"status_list_capacity": 117_965},  # more than nine tenths of 131,072
        {"status_list_capacity": 0},
        {"status_list_resign_interval_seconds": 0},
    ],
)
def test_settings_that_would_weaken_herd_privacy_or_stall_allocation_are_refused(values):
    with pytest.raises(ValidationError):
        Settings(_env_file=None, **values)


def test_a_larger_list_may_hand_out_more():
    settings = Settings(_env_file=None, status_list_size=262_144, status_list_capacity=200_000)

    assert settings.effective_status_list_capacity == 200_000
