"""API rate limits counted in the worker's own memory.

DRF's throttles keep each caller's request history in the default cache: with Redis,
two round trips on every API request, a large share of what a quick read costs
(make bench). These count in process memory instead. With N web workers a caller may
reach N × the rate before being refused: the limits are there to bound how fast anyone
walks through searches, not to meter exactly (logins are guarded by django-axes).
"""

from __future__ import annotations

from django.core.cache import caches
from rest_framework import throttling


class UserRateThrottle(throttling.UserRateThrottle):
    cache = caches["throttle"]


class AnonRateThrottle(throttling.AnonRateThrottle):
    cache = caches["throttle"]
