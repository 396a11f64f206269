"""Reads of the volunteers app (pages and APIs come in a later step of issue 5)."""

from volunteers.selectors.activities import activity_signups, user_signups

__all__ = ["activity_signups", "user_signups"]
