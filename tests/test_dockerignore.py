""".dockerignore matching: Docker's rules, in bounded time whatever a pull request writes (issue 12, finding 8)."""

from __future__ import annotations

import random

import pytest
from docker.utils.build import PatternMatcher

from prdeck.services.launch.dockerignore import MAX_PATTERNS, DockerIgnore, parse


def _pattern(rng: random.Random) -> str:
    segments = []
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.15:
            segments.append("**")
        else:
            pieces = (rng.choice(["a", "b", "c", "*", "?", "[ab]", "[a-b]", "x.y"]) for _ in range(rng.randint(1, 4)))
            segments.append("".join(pieces).replace("**", "*"))
    text = "/".join(segments)
    return ("!" if rng.random() < 0.2 else "") + text


def _path(rng: random.Random) -> str:
    return "/".join("".join(rng.choice("abc") for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(1, 4)))


def test_agrees_with_docker_py_on_ordinary_patterns() -> None:
    rng = random.Random(12)
    disagreements = []
    for _ in range(5000):
        patterns = [_pattern(rng) for _ in range(rng.randint(1, 3))]
        if any("**" in segment and segment != "**" for pattern in patterns for segment in pattern.split("/")):
            continue  # "**" inside a segment: docker-py's regex and Docker's Go differ; we count it as "*"
        path = _path(rng)
        if PatternMatcher(patterns).matches(path) != DockerIgnore(patterns).excludes(path):
            disagreements.append((patterns, path))
    assert disagreements == []


@pytest.mark.parametrize(("patterns", "path", "excluded"), [
    (["*.md"], "README.md", True), (["*.md"], "docs/README.md", False), (["**/*.md"], "docs/a/README.md", True),
    (["docs"], "docs/a/b.txt", True), (["docs", "!docs/keep.txt"], "docs/keep.txt", False),
    (["node_modules/**"], "node_modules", False), (["node_modules/**"], "node_modules/x/y.js", True),
    (["*"], ".dockerignore", False), (["[!a]*"], "b", True), (["[^a]*"], "a", False), (["a\\*"], "a*", True),
])
def test_docker_rules(patterns: list[str], path: str, excluded: bool) -> None:
    assert DockerIgnore(patterns).excludes(path) is excluded


@pytest.mark.timeout(10)
def test_a_pattern_that_hangs_a_backtracking_matcher_is_matched_at_once() -> None:
    """docker-py's matcher takes minutes on this 25-byte pattern and one 40-character name: the build hung."""
    patterns = parse("*a" * 12 + "b\n" + "*a" * 500 + "b\n")
    ignore = DockerIgnore(patterns)
    assert not ignore.excludes("a" * 40) and not ignore.excludes("a" * 5000)
    assert not ignore.excludes("/".join(["a" * 50] * 100))


def test_a_dockerignore_is_bounded() -> None:
    with pytest.raises(ValueError, match=f"at most {MAX_PATTERNS:,}"):
        parse("x\n" * (MAX_PATTERNS + 1))
    with pytest.raises(ValueError, match="a pattern of 5,000 characters"):
        parse("a" * 5000)
    assert parse("# comment\n\n  *.md  \n!x\n") == ["*.md", "!x"]
