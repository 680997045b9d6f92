"""The defaults of the LimitRange every preview namespace gets: what a container that sets no resources receives.

Shared by the guards that create the LimitRange, the value checks that refuse a request above the default limit,
and the quota sizing that counts containers as the API server will see them.
"""

from __future__ import annotations

DEFAULT_LIMITS = {"cpu": "500m", "memory": "512Mi"}
"""A container without a limit gets these (so its requests must stay below)."""
DEFAULT_REQUESTS = {"cpu": "50m", "memory": "64Mi"}
"""A container that sets neither a request nor a limit gets these requests."""
