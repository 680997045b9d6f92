"""Plain HTML pages at the sandbox's ``html_url``s, so "open on GitHub" shows something real."""

from __future__ import annotations

from html import escape

from aiohttp import web

from prdeck.services.sandbox.github.state import GitHubState

_STYLE = "body{font-family:sans-serif;max-width:60em;margin:2em auto}code{background:#eee;padding:0 .3em}"


class Pages:
    def __init__(self, state: GitHubState) -> None:
        self.state = state

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/{owner}/{repo}/pull/{number:\\d+}", self.pull_page),
            web.get("/{owner}/{repo}", self.repo_page),
        ]

    async def pull_page(self, request: web.Request) -> web.Response:
        repo = self.state.repo(request.match_info["owner"], request.match_info["repo"])
        pull = repo.pulls.get(int(request.match_info["number"])) if repo and not repo.private else None
        if repo is None or pull is None:
            return web.Response(
                status=404,
                text="<h1>404</h1><p>This is not the web page you are looking for.</p>",
                content_type="text/html",
            )
        state = "merged" if pull.merged else pull.state
        ci = repo.rollup(pull.head_sha) or "no checks"
        html = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(pull.title)} · "
            f"Pull Request #{pull.number} · {escape(repo.full_name)}</title><style>{_STYLE}</style></head><body>"
            f"<p><a href='/{escape(repo.full_name)}'>{escape(repo.full_name)}</a></p>"
            f"<h1>{escape(pull.title)} <span>#{pull.number}</span></h1>"
            f"<p><b>{escape(state)}</b> · {escape(pull.author)} wants to merge "
            f"<code>{escape(pull.branch)}</code> into <code>{escape(pull.base_branch)}</code>"
            f"{' from a fork' if pull.fork else ''}{' · draft' if pull.draft else ''}</p>"
            f"<p>Head <code>{pull.head_sha}</code> · CI: {escape(ci)} · "
            f"labels: {escape(', '.join(pull.labels) or 'none')}</p>"
            f"<pre>{escape(pull.body)}</pre></body></html>"
        )
        return web.Response(text=html, content_type="text/html")

    async def repo_page(self, request: web.Request) -> web.Response:
        repo = self.state.repo(request.match_info["owner"], request.match_info["repo"])
        if repo is None or repo.private:
            return web.Response(status=404, text="<h1>404</h1>", content_type="text/html")
        rows = "".join(
            f"<li><a href='/{escape(repo.full_name)}/pull/{p.number}'>#{p.number}</a> {escape(p.title)}</li>"
            for p in sorted(repo.pulls.values(), key=lambda p: -p.number)
            if p.state == "open"
        )
        html = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(repo.full_name)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{escape(repo.full_name)}</h1>"
            f"<h2>Open pull requests</h2><ul>{rows}</ul></body></html>"
        )
        return web.Response(text=html, content_type="text/html")
