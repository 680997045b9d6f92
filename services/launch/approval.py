"""A fork PR's approval: the head SHA the maintainer reviewed, as ``--approve-sha`` or the TUI's ``y`` gives it."""

from __future__ import annotations

import re

from prdeck.services.launch.results import ApprovalNeeded
from prdeck.services.models import PullDetail


def approved_head(pull: PullDetail, approved_sha: str | None) -> str | None:
    """The approved head SHA in full (``--approve-sha`` may give the 12 characters prdeck shows, or any
    unique prefix of at least 7); raises ApprovalNeeded for a fork without a matching approval."""
    if not pull.fork:
        return approved_sha
    if approved_sha is None:
        raise ApprovalNeeded(
            f"{pull.repo}#{pull.number} comes from the fork {pull.head_repo}: approve it first",
            f"It builds untrusted code at {pull.head_sha}. Review it, then launch with --approve-sha "
            f"{pull.head_sha}.",
        )
    given = approved_sha.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{7,40}", given):
        raise ApprovalNeeded(
            f"--approve-sha {approved_sha[:50]!r} is not a commit SHA",
            f"Give the head SHA of {pull.repo}#{pull.number} (at least 7 hex digits): {pull.head_sha}.",
        )
    if not pull.head_sha.startswith(given):
        raise ApprovalNeeded(
            f"{given[:12]} is not the head of {pull.repo}#{pull.number}: not launched",
            f"The head is {pull.head_sha[:12]} ({pull.head_repo}); the SHA is mistyped or the PR got new commits "
            f"since you reviewed it. Review the head, then launch with --approve-sha {pull.head_sha}.",
        )
    return pull.head_sha
