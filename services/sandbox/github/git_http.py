"""Git's smart HTTP protocol for sandbox repositories, served by the real ``git http-backend`` (CGI).

``git fetch http://127.0.0.1:PORT/owner/name.git refs/pull/7/head`` works as it does against GitHub.
Private repositories want basic auth whose password is a token with access, as on GitHub.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
from functools import cache

from aiohttp import web

from prdeck.services.sandbox.github.state import GitHubState


@cache
def _backend() -> str:
    """The path of ``git-http-backend``, which lives in git's exec path rather than on PATH."""
    exec_path = subprocess.run(["git", "--exec-path"], capture_output=True, text=True, check=True).stdout.strip()
    candidate = os.path.join(exec_path, "git-http-backend")
    return candidate if os.path.exists(candidate) else (shutil.which("git-http-backend") or candidate)


class GitHttp:
    def __init__(self, state: GitHubState) -> None:
        self.state = state

    def routes(self) -> list[web.RouteDef]:
        return [web.route("*", "/{owner}/{repo}.git/{rest:.*}", self.handle)]

    def _authorized(self, request: web.Request, owner: str, name: str) -> bool:
        repo = self.state.repo(owner, name)
        if repo is None:
            return False
        if not repo.private:
            return True
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            _, _, token = base64.b64decode(value).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        user = self.state.user_for_token(token)
        return user is not None and repo.visible_to(user.login)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        owner, name, rest = request.match_info["owner"], request.match_info["repo"], request.match_info["rest"]
        repo = self.state.repo(owner, name)
        if repo is None or not self._authorized(request, owner, name):
            if repo is not None and repo.private:
                return web.Response(
                    status=401, text="Authentication required\n", headers={"WWW-Authenticate": 'Basic realm="GitHub"'}
                )
            return web.Response(status=404, text="Repository not found.\n")
        if rest.startswith("git-receive-pack") or request.query.get("service") == "git-receive-pack":
            return web.Response(status=403, text="Write access to repository not granted.\n")
        git_path = self.state.git.path(repo.full_name)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(git_path.parent),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": f"/{git_path.name}/{rest}",
            "REQUEST_METHOD": request.method,
            "QUERY_STRING": request.query_string,
            "CONTENT_TYPE": request.headers.get("Content-Type", ""),
            "REMOTE_ADDR": request.remote or "127.0.0.1",
            "GIT_PROTOCOL": request.headers.get("Git-Protocol", ""),
            "HTTP_CONTENT_ENCODING": request.headers.get("Content-Encoding", ""),
        }
        body = await request.read()
        env["CONTENT_LENGTH"] = str(len(body))
        process = await asyncio.create_subprocess_exec(
            _backend(),
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        output, errors = await process.communicate(body)
        head, _, payload = output.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = output.partition(b"\n\n")
        status = 200
        headers: dict[str, str] = {}
        for line in head.decode("latin-1").splitlines():
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.strip().split()[0])
            elif key:
                headers[key.strip()] = value.strip()
        if process.returncode and status == 200 and not payload:
            return web.Response(status=500, text=errors.decode("utf-8", "replace"))
        return web.Response(status=status, body=payload, headers=headers)
