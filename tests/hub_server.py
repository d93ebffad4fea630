"""A small Hugging Face Hub-compatible HTTP server for tests (stdlib only, in memory, 127.0.0.1).

It answers the calls that ``huggingface_hub`` 2.4 (create_repo, create_branch, upload_folder, list_repo_files,
list_repo_commits) and ``transformers``' ``from_pretrained`` make, with the basic LFS transfer for large files.
Clients must read ``HF_ENDPOINT``, ``HF_TOKEN`` and ``HF_HUB_DISABLE_XET=1`` (see
:meth:`HubServer.client_environment`) before ``huggingface_hub`` is imported, as its constants are read at import;
the tests therefore drive it from subprocesses.

Failure injection, for testing how publishing fails: ``server.state.fail = {"create": 401}`` makes the named call
answer that status (names: ``create``, ``branch``, ``preupload``, ``lfs-batch``, ``lfs-upload``, ``commit``,
``any``); with ``server.state.echo_authorization`` the error message repeats the request's ``Authorization``
header, the way a careless proxy might, so a test can check that the client never shows it. Write calls need
``Authorization: Bearer <server.state.token>`` (401 otherwise).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

LFS_SUFFIXES = (".safetensors", ".bin", ".parquet", ".pt", ".pth", ".onnx", ".h5", ".msgpack")
USER = "tester"


def git_blob_oid(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass
class Commit:
    oid: str
    parent: str | None
    title: str
    message: str
    date: str
    files: dict[str, bytes]  # path -> content (LFS files resolved to their bytes)
    lfs: dict[str, str]  # path -> sha256 of LFS files


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    branches: dict[str, str] = field(default_factory=dict)  # name -> commit oid
    commits: dict[str, Commit] = field(default_factory=dict)

    def resolve(self, revision: str) -> Commit | None:
        oid = self.branches.get(revision, revision)
        return self.commits.get(oid)

    def history(self, revision: str) -> list[Commit]:
        commit, history = self.resolve(revision), []
        while commit is not None:
            history.append(commit)
            commit = self.commits.get(commit.parent) if commit.parent else None
        return history


class HubState:
    """Repositories, uploaded LFS objects, requests no route answered, and the failures to inject."""

    def __init__(self, token: str):
        self.token = token
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lfs_objects: dict[str, bytes] = {}
        self.unhandled: list[tuple[str, str]] = []
        self.fail: dict[str, int] = {}
        self.echo_authorization = False
        self.lock = threading.Lock()

    def reset_failures(self) -> None:
        self.fail, self.echo_authorization = {}, False

    def add_commit(self, repo: Repo, branch: str, title: str, message: str, changes: dict, deletions=()) -> Commit:
        parent = repo.resolve(branch)
        files = dict(parent.files) if parent else {}
        lfs = dict(parent.lfs) if parent else {}
        for path in deletions:
            files.pop(path, None)
            lfs.pop(path, None)
        for path, (content, sha256) in changes.items():
            files[path] = content
            if sha256:
                lfs[path] = sha256
            else:
                lfs.pop(path, None)
        oid = hashlib.sha1(uuid.uuid4().bytes).hexdigest()
        date = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        commit = Commit(oid, parent.oid if parent else None, title, message, date, files, lfs)
        repo.commits[oid] = commit
        repo.branches[branch] = oid
        return commit


_REPO = r"(?P<repo>[^/]+/[^/]+)"
_API = rf"^/api/(?P<type>models|datasets)/{_REPO}"
ROUTES = [
    ("GET", "whoami", r"^/api/whoami-v2$"),
    ("POST", "create", r"^/api/repos/create$"),
    ("POST", "validate", r"^/api/validate-yaml$"),
    ("POST", "preupload", _API + r"/preupload/(?P<rev>[^/]+)$"),
    ("POST", "commit", _API + r"/commit/(?P<rev>[^/]+)$"),
    ("POST", "branch", _API + r"/branch/(?P<rev>[^/]+)$"),
    ("GET", "commits", _API + r"/commits/(?P<rev>[^/]+)$"),
    ("GET", "tree", _API + r"/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?$"),
    ("GET", "info", _API + r"(?:/revision/(?P<rev>[^/]+))?$"),
    ("POST", "lfs-batch", rf"^/(?P<prefix>datasets/)?{_REPO}\.git/info/lfs/objects/batch$"),
    ("PUT", "lfs-upload", r"^/_lfs/(?P<oid>[0-9a-f]{64})$"),
    ("GET", "resolve", rf"^/(?P<prefix>datasets/)?{_REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)$"),
    ("HEAD", "resolve", rf"^/(?P<prefix>datasets/)?{_REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)$"),
]
WRITES = {"create", "preupload", "commit", "branch", "lfs-batch", "lfs-upload"}


class HubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HubServer

    def log_message(self, format, *args):  # quiet
        pass

    # ---- plumbing ---------------------------------------------------------------------------------------

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(chunks)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        return body

    def _send(self, status: int, payload=None, *, raw: bytes | None = None, headers: dict | None = None) -> None:
        body = raw if raw is not None else (b"" if payload is None else json.dumps(payload).encode())
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream" if raw is not None else "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, message: str, code: str | None = None) -> None:
        headers = {"X-Error-Message": message}
        if code:
            headers["X-Error-Code"] = code
        self._send(status, {"error": message}, headers=headers)

    def _dispatch(self) -> None:
        state = self.server.state
        url = urlparse(self.path)
        body = self._body() if self.command in ("POST", "PUT") else b""
        for method, name, pattern in ROUTES:
            match = re.match(pattern, url.path)
            if method != self.command or not match:
                continue
            status = state.fail.get(name) or state.fail.get("any")
            if status:
                message = f"injected failure {status} on {name}"
                if state.echo_authorization:
                    message += f" (request had Authorization: {self.headers.get('Authorization')})"
                return self._error(status, message)
            if name in WRITES and name != "lfs-upload":
                if self.headers.get("Authorization") != f"Bearer {state.token}":
                    return self._error(401, "Invalid credentials in Authorization header")
            params = {key: unquote(value) if value else value for key, value in match.groupdict().items()}
            with state.lock:
                return getattr(self, "_" + name.replace("-", "_"))(params, body, parse_qs(url.query))
        with state.lock:
            state.unhandled.append((self.command, url.path))
        self._error(404, f"no route for {self.command} {url.path}")

    do_GET = do_POST = do_PUT = do_HEAD = _dispatch

    def _repo(self, params: dict) -> Repo | None:
        repo_type = params.get("type") or ("datasets" if params.get("prefix") else "models")
        return self.server.state.repos.get((repo_type.rstrip("s"), params["repo"]))

    def _missing_repo(self) -> None:
        self._error(404, "Repository not found", "RepoNotFound")

    def _repo_and_commit(self, params, rev: str):
        """(repo, commit) for a request, or None after answering 404 for a missing repository or revision."""
        repo = self._repo(params)
        if repo is None:
            return self._missing_repo()
        commit = repo.resolve(rev)
        if commit is None:
            return self._error(404, "Revision not found", "RevisionNotFound")
        return repo, commit

    # ---- endpoints ----------------------------------------------------------------------------------------

    def _whoami(self, params, body, query):
        self._send(200, {"type": "user", "name": USER, "orgs": [], "auth": {"accessToken": {"role": "write"}}})

    def _create(self, params, body, query):
        data = json.loads(body)
        repo_type = data.get("type") or "model"
        repo_id = f"{data.get('organization') or USER}/{data['name']}"
        state = self.server.state
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        url = f"{self.server.endpoint}/{prefix}{repo_id}"
        if (repo_type, repo_id) in state.repos:
            return self._send(409, {"error": "You already created this model repo", "url": url})
        repo = Repo(repo_type, repo_id, bool(data.get("private")) or data.get("visibility") == "private")
        attributes = "".join(f"*{suffix} filter=lfs diff=lfs merge=lfs -text\n" for suffix in LFS_SUFFIXES)
        state.add_commit(repo, "main", "initial commit", "", {".gitattributes": (attributes.encode(), None)})
        state.repos[(repo_type, repo_id)] = repo
        self._send(200, {"url": url, "name": repo_id, "id": uuid.uuid4().hex})

    def _validate(self, params, body, query):
        self._send(200, {"errors": [], "warnings": []})

    def _preupload(self, params, body, query):
        repo = self._repo(params)
        if repo is None:
            return self._missing_repo()
        head = repo.resolve(params["rev"])
        answer = []
        for f in json.loads(body)["files"]:
            entry = {
                "path": f["path"],
                "uploadMode": "lfs" if f["path"].endswith(LFS_SUFFIXES) else "regular",
                "shouldIgnore": False,
            }
            if head is not None and f["path"] in head.files:  # lets the client skip unchanged files, as the Hub does
                entry["oid"] = head.lfs.get(f["path"]) or git_blob_oid(head.files[f["path"]])
            answer.append(entry)
        self._send(200, {"files": answer})

    def _lfs_batch(self, params, body, query):
        if self._repo(params) is None:
            return self._missing_repo()
        objects = json.loads(body)["objects"]
        answer = []
        for obj in objects:
            entry = {"oid": obj["oid"], "size": obj["size"]}
            if obj["oid"] not in self.server.state.lfs_objects:
                entry["actions"] = {"upload": {"href": f"{self.server.endpoint}/_lfs/{obj['oid']}"}}
            answer.append(entry)
        self._send(200, {"transfer": "basic", "objects": answer})

    def _lfs_upload(self, params, body, query):
        if hashlib.sha256(body).hexdigest() != params["oid"]:
            return self._error(400, "LFS object does not match its oid")
        self.server.state.lfs_objects[params["oid"]] = body
        self._send(200, {})

    def _commit(self, params, body, query):
        state = self.server.state
        repo = self._repo(params)
        if repo is None:
            return self._missing_repo()
        branch = params["rev"]
        if branch not in repo.branches:
            return self._error(404, f"Invalid rev id: {branch}", "RevisionNotFound")
        header, changes, deletions = {}, {}, []
        for line in body.splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            value = item["value"]
            if item["key"] == "header":
                header = value
            elif item["key"] == "file":
                changes[value["path"]] = (base64.b64decode(value["content"]), None)
            elif item["key"] == "lfsFile":
                content = state.lfs_objects.get(value["oid"])
                if content is None:
                    return self._error(400, f"LFS object {value['oid']} was never uploaded")
                changes[value["path"]] = (content, value["oid"])
            elif item["key"] in ("deletedFile", "deletedFolder"):
                deletions.append(value["path"])
        summary, description = header.get("summary", ""), header.get("description", "")
        commit = state.add_commit(repo, branch, summary, description, changes, deletions)
        url = f"{self.server.endpoint}/{repo.repo_id}/commit/{commit.oid}"
        self._send(200, {"commitUrl": url, "commitOid": commit.oid, "pullRequestUrl": None})

    def _branch(self, params, body, query):
        repo = self._repo(params)
        if repo is None:
            return self._missing_repo()
        if params["rev"] in repo.branches:
            return self._error(409, f"Branch {params['rev']} already exists")
        start = (json.loads(body) if body else {}).get("startingPoint") or "main"
        if repo.resolve(start) is None:
            return self._error(404, f"Invalid rev id: {start}", "RevisionNotFound")
        repo.branches[params["rev"]] = repo.resolve(start).oid
        self._send(200, {})

    def _commits(self, params, body, query):
        found = self._repo_and_commit(params, params["rev"])
        if found is None:
            return
        repo = found[0]
        self._send(
            200,
            [
                {"id": c.oid, "title": c.title, "message": c.message, "date": c.date, "authors": [{"user": USER}]}
                for c in repo.history(params["rev"])
            ],
        )

    def _entry(self, commit: Commit, path: str) -> dict:
        content = commit.files[path]
        entry = {"type": "file", "path": path, "size": len(content), "oid": git_blob_oid(content)}
        if path in commit.lfs:
            entry["lfs"] = {"oid": commit.lfs[path], "size": len(content), "pointerSize": 134}
        return entry

    def _tree(self, params, body, query):
        found = self._repo_and_commit(params, params["rev"])
        if found is None:
            return
        repo, commit = found
        folder = (params.get("path") or "").strip("/")
        prefix = f"{folder}/" if folder else ""
        inside = [path for path in sorted(commit.files) if path.startswith(prefix)]
        if folder and not inside:
            return self._error(404, f"{folder} does not exist", "EntryNotFound")
        recursive = query.get("recursive", ["false"])[0].lower() == "true"
        entries, folders = [], set()
        for path in inside:
            rest = path[len(prefix) :]
            if "/" in rest and not recursive:
                folders.add(prefix + rest.split("/")[0])
                continue
            entries.append(self._entry(commit, path))
        entries += [{"type": "directory", "path": name, "size": 0, "oid": "0" * 40} for name in sorted(folders)]
        self._send(200, entries)

    def _info(self, params, body, query):
        found = self._repo_and_commit(params, params.get("rev") or "main")
        if found is None:
            return
        repo, commit = found
        self._send(
            200,
            {
                "id": repo.repo_id,
                "modelId": repo.repo_id,
                "sha": commit.oid,
                "private": repo.private,
                "siblings": [{"rfilename": path} for path in sorted(commit.files)],
                "lastModified": commit.date,
            },
        )

    def _resolve(self, params, body, query):
        found = self._repo_and_commit(params, params["rev"])
        if found is None:
            return
        repo, commit = found
        path = params["path"]
        if path not in commit.files:
            return self._error(404, f"Entry not found: {path}", "EntryNotFound")
        content = commit.files[path]
        etag = commit.lfs.get(path) or git_blob_oid(content)
        headers = {"ETag": f'"{etag}"', "X-Repo-Commit": commit.oid}
        if path in commit.lfs:
            headers.update({"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(len(content))})
        self._send(200, raw=content, headers=headers)


class HubServer(ThreadingHTTPServer):
    """The server; ``start()`` serves from a daemon thread, ``stop()`` shuts it down."""

    daemon_threads = True

    def __init__(self, token: str):
        super().__init__(("127.0.0.1", 0), HubHandler)
        self.state = HubState(token)
        self.endpoint = f"http://127.0.0.1:{self.server_address[1]}"
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def start(self) -> HubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def repo(self, repo_id: str, repo_type: str = "model") -> Repo | None:
        return self.state.repos.get((repo_type, repo_id))

    def client_environment(self, base: dict, home: str) -> dict:
        """``base`` (e.g. ``os.environ``) with the variables a client process needs to talk to this server."""
        env = {k: v for k, v in base.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
        env.update(
            HF_ENDPOINT=self.endpoint,
            HF_TOKEN=self.state.token,
            HF_HUB_DISABLE_XET="1",
            HF_HOME=home,
            HF_HUB_DISABLE_TELEMETRY="1",
        )
        return env


def free_port_refusing_connections() -> int:
    """A port on 127.0.0.1 where nothing listens (a server bound it, then closed), for 'connection refused'."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
