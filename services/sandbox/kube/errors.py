"""Kubernetes API errors as the API server sends them: ``Status`` objects with a reason and an HTTP code."""

from __future__ import annotations

from typing import Any

from prdeck.services.sandbox.kube.resources import Resource

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "AlreadyExists",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    500: "InternalError",
    503: "ServiceUnavailable",
}


class KubeError(Exception):
    """Raised anywhere in the sandbox; the HTTP layer turns it into a Status response."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def _details(resource: Resource, name: str, causes: list[dict[str, str]] | None = None) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "kind": resource.plural}
    if resource.group:
        details["group"] = resource.group
    if causes:
        details["causes"] = causes
    return details


def not_found(resource: Resource, name: str) -> KubeError:
    return KubeError(404, f'{resource.qualified} "{name}" not found', details=_details(resource, name))


def already_exists(resource: Resource, name: str) -> KubeError:
    return KubeError(409, f'{resource.qualified} "{name}" already exists', details=_details(resource, name))


def conflict(resource: Resource, name: str, why: str) -> KubeError:
    return KubeError(
        409,
        f'Operation cannot be fulfilled on {resource.qualified} "{name}": {why}',
        reason="Conflict",
        details=_details(resource, name),
    )


def invalid(resource: Resource, name: str, causes: list[tuple[str, str, str]]) -> KubeError:
    """422 Invalid; each cause is (reason, field, message) as in ``FieldValueRequired`` / ``FieldValueInvalid``.

    As the real server words it: ``Deployment.apps "web" is invalid: ...`` (several causes in brackets) and
    ``details.kind`` is the Kind, not the resource.
    """
    listed = [{"reason": reason, "message": message, "field": field} for reason, field, message in causes]
    summary = ", ".join(f"{field}: {message}" for _, field, message in causes)
    if len(causes) > 1:
        summary = f"[{summary}]"
    qualified = f"{resource.kind}.{resource.group}" if resource.group else resource.kind
    details: dict[str, Any] = {"name": name, **({"group": resource.group} if resource.group else {})}
    details.update({"kind": resource.kind, "causes": listed})
    return KubeError(422, f'{qualified} "{name}" is invalid: {summary}', details=details)


def undecodable(resource: Resource, why: str) -> KubeError:
    """400 BadRequest for a body the server cannot decode into the kind (``1GB`` as a quantity)."""
    kind = resource.kind
    return KubeError(400, f'{kind} in version "{resource.version}" cannot be handled as a {kind}: {why}')


def forbidden(resource: Resource, user: str, verb: str, namespace: str | None) -> KubeError:
    where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    return KubeError(
        403,
        f'{resource.qualified} is forbidden: User "{user}" cannot {verb} resource "{resource.plural}" '
        f'in API group "{resource.group}" {where}',
        details={"kind": resource.plural, **({"group": resource.group} if resource.group else {})},
    )


def gone(message: str) -> KubeError:
    return KubeError(410, message)
