"""What a git repository shows about its author's practice, read safely from a local checkout.

Only ``git`` plumbing is run (``rev-parse``, ``ls-tree``, ``log``, ``cat-file``), with a scrubbed
environment: no system or global config, no hooks, no fsmonitor, no pager, no signature checks, no
prompts, no network protocol allowed, a timeout and capped output. Files are listed from the
commit's tree, never walked on disk, so symlinks and untracked files play no part.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

GIT_TIMEOUT_SECONDS = 20
MAX_FILES = 20_000
MAX_COMMITS = 5_000
MAX_README_BYTES = 64 * 1024

LANGUAGES = {
    ".py": "Python",
    ".ipynb": "Jupyter Notebook",
    ".js": "JavaScript",
    ".mjs": "JavaScript",
    ".cjs": "JavaScript",
    ".jsx": "JavaScript",
    ".ts": "TypeScript",
    ".tsx": "TypeScript",
    ".html": "HTML",
    ".htm": "HTML",
    ".css": "CSS",
    ".scss": "SCSS",
    ".sass": "SCSS",
    ".less": "Less",
    ".vue": "Vue",
    ".svelte": "Svelte",
    ".go": "Go",
    ".rs": "Rust",
    ".java": "Java",
    ".kt": "Kotlin",
    ".swift": "Swift",
    ".rb": "Ruby",
    ".php": "PHP",
    ".cs": "C#",
    ".c": "C",
    ".h": "C",
    ".cpp": "C++",
    ".cc": "C++",
    ".hpp": "C++",
    ".r": "R",
    ".rmd": "R",
    ".sql": "SQL",
    ".sh": "Shell",
    ".bash": "Shell",
    ".dart": "Dart",
    ".scala": "Scala",
    ".jl": "Julia",
    ".m": "MATLAB",
    ".lua": "Lua",
    ".ex": "Elixir",
    ".exs": "Elixir",
}
_TEST_FILE = re.compile(
    r"(^|/)(test_[^/]+\.py|[^/]+_test\.(py|go|rb|exs)|[^/]+\.(test|spec)\.[jt]sx?|"
    r"[^/]+(Test|Tests|Spec)\.(java|kt|cs|swift|scala)|[^/]+_spec\.rb|test_[^/]+\.R)$"
)
_TEST_DIR = re.compile(r"(^|/)(tests?|__tests__|spec|specs|testthat)/")
_CI_FILES = (
    re.compile(r"^\.github/workflows/[^/]+\.ya?ml$"),
    re.compile(r"^\.gitlab-ci\.ya?ml$"),
    re.compile(r"^\.circleci/config\.ya?ml$"),
    re.compile(r"^Jenkinsfile$"),
    re.compile(r"^\.travis\.ya?ml$"),
    re.compile(r"^azure-pipelines\.ya?ml$"),
    re.compile(r"^bitbucket-pipelines\.ya?ml$"),
    re.compile(r"^\.drone\.ya?ml$"),
    re.compile(r"^\.woodpecker(\.ya?ml|/[^/]+\.ya?ml)$"),
    re.compile(r"^\.buildkite/[^/]+\.ya?ml$"),
    re.compile(r"^\.forgejo/workflows/[^/]+\.ya?ml$"),
)
_README = re.compile(r"^readme(\.(md|markdown|rst|txt))?$", re.IGNORECASE)


class RepositoryError(Exception):
    """The checkout could not be read (not a repository, git missing, commit unknown, timeout)."""


@dataclass
class RepositorySignals:
    """What :func:`read_repository` found. ``readme`` is the README's text (untrusted: screen it)."""

    commit: str
    files: int = 0
    languages: dict[str, int] = field(default_factory=dict)
    test_files: list[str] = field(default_factory=list)
    ci_files: list[str] = field(default_factory=list)
    readme_path: str | None = None
    readme: str | None = None
    commits: int = 0
    authors: int = 0
    first_commit_at: int | None = None
    last_commit_at: int | None = None
    commit_subjects: list[str] = field(default_factory=list)
    commit_bodies: list[str] = field(default_factory=list)
    """Non-empty commit message bodies (first 2,000 characters each): screened, never scored."""
    truncated: bool = False

    @property
    def history_days(self) -> float:
        if self.first_commit_at is None or self.last_commit_at is None:
            return 0.0
        return round((self.last_commit_at - self.first_commit_at) / 86_400, 1)

    @property
    def source_files(self) -> int:
        return sum(self.languages.values())

    def summary(self) -> str:
        """The facts in one paragraph of plain English (scored like any evidence text)."""
        parts = []
        if self.languages:
            ranked = sorted(self.languages.items(), key=lambda kv: (-kv[1], kv[0]))
            parts.append("Languages: " + ", ".join(f"{name} ({count} files)" for name, count in ranked[:6]) + ".")
        if self.test_files:
            parts.append(f"Automated tests: {len(self.test_files)} test files, e.g. {', '.join(self.test_files[:3])}.")
        else:
            parts.append("No automated tests found.")
        if self.ci_files:
            parts.append(f"Continuous integration pipeline configured: {', '.join(self.ci_files[:3])}.")
        parts.append(
            f"Version control history: {self.commits} commits over {self.history_days:g} days "
            f"by {self.authors} author{'s' if self.authors != 1 else ''}."
        )
        if self.readme_path:
            parts.append(f"Documentation: {self.readme_path}.")
        return " ".join(parts)

    def as_dict(self) -> dict[str, object]:
        """The signals as recorded with an assessment (no README text)."""
        return {
            "commit": self.commit,
            "files": self.files,
            "languages": dict(sorted(self.languages.items())),
            "test_files": len(self.test_files),
            "ci": list(self.ci_files),
            "readme": self.readme_path,
            "commits": self.commits,
            "authors": self.authors,
            "history_days": self.history_days,
            "truncated": self.truncated,
        }


def _git_environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "LANG", "LC_ALL", "TZ")}
    env.update(
        {
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "HOME": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_OPTIONAL_LOCKS": "0",
            "GIT_PAGER": "cat",
            "PAGER": "cat",
            "GIT_NO_REPLACE_OBJECTS": "1",
            "GIT_ALLOW_PROTOCOL": "",
            "GIT_ASKPASS": "/bin/false",
            "SSH_ASKPASS": "/bin/false",
            "GIT_ATTR_NOSYSTEM": "1",
        }
    )
    return env


_SAFE_CONFIG = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.pager=cat",
    "-c",
    "log.showSignature=false",
    "-c",
    "gpg.program=/bin/false",
    "-c",
    "core.sshCommand=/bin/false",
    "-c",
    "protocol.allow=never",
    "-c",
    "core.quotePath=false",
)


def git(repository: Path, *args: str, limit: int = 8 * 1024 * 1024) -> bytes:
    """Run one read-only git command in ``repository`` with the safe environment; its stdout.

    Raises :class:`RepositoryError` on failure, timeout, or output over ``limit`` bytes."""
    executable = shutil.which("git")
    if executable is None:
        raise RepositoryError("git is not installed")
    command = [executable, "--no-pager", *_SAFE_CONFIG, "-C", str(repository), *args]
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            env=_git_environment(),
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise RepositoryError(f"git {args[0]} timed out") from err
    except OSError as err:
        raise RepositoryError(f"cannot run git: {err}") from err
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RepositoryError(f"git {args[0]} failed: {message[-1] if message else completed.returncode}")
    if len(completed.stdout) > limit:
        return completed.stdout[:limit]
    return completed.stdout


def resolve_commit(repository: Path, commit: str | None = None) -> str:
    """The full id of ``commit`` (default ``HEAD``) in ``repository``."""
    ref = commit or "HEAD"
    if not re.fullmatch(r"[0-9a-fA-F]{4,64}|HEAD", ref):
        raise RepositoryError("a commit is a hexadecimal id")
    return git(repository, "rev-parse", "--verify", "--quiet", ref + "^{commit}").decode().strip()


def _classify(paths: list[str], signals: RepositorySignals) -> None:
    languages: Counter[str] = Counter()
    for path in paths:
        pure = PurePosixPath(path)
        if any(part in ("node_modules", "vendor", "dist", "build", ".venv", "venv") for part in pure.parts[:-1]):
            continue
        language = LANGUAGES.get(pure.suffix.lower())
        if language:
            languages[language] += 1
        if _TEST_FILE.search(path) or (language and _TEST_DIR.search(path)):
            signals.test_files.append(path)
        if any(pattern.match(path) for pattern in _CI_FILES):
            signals.ci_files.append(path)
        if len(pure.parts) == 1 and _README.match(pure.name) and signals.readme_path is None:
            signals.readme_path = path
    signals.languages = dict(languages)


def read_repository(repository: Path, commit: str | None = None) -> RepositorySignals:
    """Read the signals of ``repository`` at ``commit`` (default ``HEAD``).

    Raises :class:`RepositoryError` when the checkout cannot be read at all."""
    commit_id = resolve_commit(repository, commit)
    signals = RepositorySignals(commit=commit_id)
    listing = git(repository, "ls-tree", "-r", "-z", "--name-only", commit_id).split(b"\0")
    paths = [entry.decode("utf-8", "replace") for entry in listing if entry][: MAX_FILES + 1]
    signals.truncated = len(paths) > MAX_FILES
    paths = sorted(paths[:MAX_FILES])
    signals.files = len(paths)
    _classify(paths, signals)
    if signals.readme_path:
        blob = git(repository, "cat-file", "-p", f"{commit_id}:{signals.readme_path}", limit=MAX_README_BYTES)
        signals.readme = blob.decode("utf-8", "replace")
    log = git(
        repository,
        "log",
        "--no-show-signature",
        "--no-notes",
        "--no-mailmap",
        f"--max-count={MAX_COMMITS}",
        "--format=%at%x1f%aE%x1f%s%x1f%b%x1e",
        commit_id,
    )
    times: list[int] = []
    authors: set[str] = set()
    for record in log.decode("utf-8", "replace").split("\x1e"):
        fields = record.strip("\n").split("\x1f")
        if len(fields) != 4 or not fields[0].strip().isdigit():
            continue
        times.append(int(fields[0].strip()))
        authors.add(fields[1].strip().lower())
        signals.commit_subjects.append(fields[2][:300])
        if fields[3].strip():
            signals.commit_bodies.append(fields[3].strip()[:2000])
    signals.commits = len(times)
    signals.authors = len(authors)
    if times:
        signals.first_commit_at, signals.last_commit_at = min(times), max(times)
    return signals
