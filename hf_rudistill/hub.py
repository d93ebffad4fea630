"""Publishing a student to the Hugging Face Hub: one commit with safetensors weights, tokenizer, config, the vocab
mapping, the distillation config and the model card.

:func:`prepare_upload` checks the folder and lists what a push sends (weights only as safetensors: pickle files
such as ``pytorch_model.bin`` or ``training_args.bin`` are never uploaded, and a folder whose only weights are
pickled is refused); it writes the model card when the folder has none. :func:`push_student` then runs
``create_repo(exist_ok=True)`` (and ``create_branch`` for a ``revision`` that does not exist yet) and a single
``upload_folder`` commit restricted to those files. The token comes from huggingface_hub's usual sources
(``token=``, ``HF_TOKEN``, ``hf auth login``) and is never printed or written; a failed push raises
:class:`PushError` with one plain line and leaves the local folder as it was.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from huggingface_hub.constants import REPOCARD_NAME as CARD_FILE

DEFAULT_COMMIT_MESSAGE = "Upload distilled student (hf_rudistill)"
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "model-*-of-*.safetensors")
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "chat_template.jinja",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "spiece.model",
    "sentencepiece.bpe.model",
    "spm.model",
)
STUDENT_FILES = (
    "config.json",
    "vocab_mapping.json",
    "vocab_mapping.safetensors",
    "distillation_config.json",
    CARD_FILE,
)
UPLOAD_PATTERNS = (*WEIGHT_FILES, *TOKENIZER_FILES, *STUDENT_FILES)
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".npy")
# passed to upload_folder as well, so nothing pickled or checkpointed is sent even if a pattern above matched it
IGNORE_PATTERNS = tuple(f"*{suffix}" for suffix in PICKLE_SUFFIXES) + ("checkpoint-*", "checkpoint-*/*", ".*")


class PushError(RuntimeError):
    """A push failed; the message is one line naming the problem and what to do."""


@dataclass
class UploadPlan:
    """What a push of ``folder`` sends, what it leaves out (with the reason), and whether the card was written."""

    folder: Path
    files: list[str]
    left_out: dict[str, str] = field(default_factory=dict)
    card_written: bool = False

    @property
    def size_bytes(self) -> int:
        return sum((self.folder / name).stat().st_size for name in self.files)

    def describe(self) -> str:
        lines = [f"{len(self.files)} files, {self.size_bytes / 2**20:.1f} MB from {self.folder}:"]
        lines += [f"  {name}  ({(self.folder / name).stat().st_size:,} bytes)" for name in self.files]
        if self.left_out:
            lines.append("left out:")
            lines += [f"  {name}  ({reason})" for name, reason in sorted(self.left_out.items())]
        return "\n".join(lines)


@dataclass
class PushResult:
    """A finished push: the repository, the commit, and the plan it carried out (``commit_url`` is None in a dry
    run)."""

    repo_id: str
    plan: UploadPlan
    revision: str | None = None
    commit_url: str | None = None
    commit_oid: str | None = None


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    from fnmatch import fnmatch

    return any(fnmatch(name, pattern) for pattern in patterns)


def _check_safetensors(path: Path) -> None:
    from safetensors import safe_open

    try:
        with safe_open(path, framework="numpy") as handle:
            handle.keys()
    except Exception as error:  # safetensors raises its own error types for a damaged header
        raise ValueError(f"{path} is not a readable safetensors file ({error}); save the model again.") from error


def prepare_upload(output_dir: str | os.PathLike, repo_id: str | None = None) -> UploadPlan:
    """Check a student folder and list the files a push uploads; write ``README.md`` (the model card, see
    :func:`~hf_rudistill.model_card.write_model_card`) when the folder has none. Raises ``FileNotFoundError`` or
    ``ValueError`` naming what is missing or wrong; nothing else in the folder is touched."""
    from huggingface_hub import ModelCard

    folder = Path(output_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"No student folder at {folder}.")
    entries = sorted(path.name for path in folder.iterdir())
    if "config.json" not in entries:
        raise ValueError(f"{folder} has no config.json: it is not a saved model folder.")
    pickled = [name for name in entries if name.endswith(PICKLE_SUFFIXES)]
    if not any(_matches(name, WEIGHT_FILES) for name in entries):
        found = f" (only pickled weights: {', '.join(pickled)})" if pickled else ""
        raise ValueError(
            f"{folder} has no safetensors weights{found}. Only safetensors are published: save the model with "
            "save_pretrained(...) from transformers (safetensors is its default) and push again."
        )
    if not any(name in entries for name in ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model")):
        raise ValueError(f"{folder} has no tokenizer files: save the tokenizer with tokenizer.save_pretrained(...).")
    for name in entries:
        if name.endswith(".safetensors"):
            _check_safetensors(folder / name)

    card_written = False
    if CARD_FILE not in entries:
        from .model_card import write_model_card  # (imports torch: only when a card must be written)

        write_model_card(folder, repo_id=repo_id)
        entries = sorted([*entries, CARD_FILE])
        card_written = True
    else:
        try:
            ModelCard.load(folder / CARD_FILE, ignore_metadata_errors=False)
        except Exception as error:  # yaml and huggingface_hub raise several types for bad metadata
            raise ValueError(
                f"{folder / CARD_FILE} has invalid metadata ({error}); fix it or regenerate it with `rudistill card`."
            ) from error

    files, left_out = [], {}
    for name in entries:
        path = folder / name
        if name.endswith(PICKLE_SUFFIXES):
            left_out[name] = "pickle file: never uploaded, safetensors only"
        elif path.is_dir():
            left_out[name] = "folder (checkpoints and other folders are not published)"
        elif _matches(name, UPLOAD_PATTERNS) and not _matches(name, IGNORE_PATTERNS):
            files.append(name)
        else:
            left_out[name] = "not part of a published student"
    return UploadPlan(folder=folder, files=files, left_out=left_out, card_written=card_written)


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Network-level errors of the HTTP client huggingface_hub uses (``httpx2`` in 2.x, ``httpx`` in 1.x)."""
    import importlib

    errors: list[type[BaseException]] = [ConnectionError, TimeoutError]
    for module_name in ("httpx2", "httpx"):
        try:
            errors.append(importlib.import_module(module_name).TransportError)
        except (ImportError, AttributeError):
            continue
    return tuple(errors)


def _redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def explain_failure(error: BaseException, repo_id: str, stage: str, secrets: list[str]) -> str:
    """One line: ``stage`` (what was being done), what went wrong, and what to do; never any of ``secrets``.
    Re-raises an error it cannot explain."""
    from huggingface_hub import constants
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    if isinstance(error, OfflineModeIsEnabled):
        return f"{stage}: HF_HUB_OFFLINE is set, so nothing can be uploaded; unset it and push again."
    if isinstance(error, HfHubHTTPError) and error.response is not None:
        status = error.response.status_code
        namespace = repo_id.split("/")[0] if "/" in repo_id else "your user"
        if status == 401:
            problem = "the Hub did not accept the token (401 Unauthorized)"
            advice = "log in with `hf auth login` or set HF_TOKEN to a token with write access"
        elif status == 403:
            problem = f"the token may not write to {repo_id} (403 Forbidden)"
            advice = f"use a token with write access to the '{namespace}' namespace (fine-grained tokens need it too)"
        elif status >= 500:
            problem = f"the Hub failed (HTTP {status}) and nothing was committed"
            advice = "try again later"
        else:
            problem = f"the Hub refused the request (HTTP {status})"
            advice = "check the repository id and the revision"
        said = " ".join(_redact(getattr(error, "server_message", None) or "", secrets).split())[:200]
        return f"{stage}: {problem}; {advice}." + (f" The Hub said: {said}." if said else "")
    if isinstance(error, _transport_errors()):
        reason = " ".join(_redact(str(error), secrets).split())[:200] or type(error).__name__
        return (
            f"{stage}: could not reach the Hub at {constants.ENDPOINT} ({reason}); check the network connection, "
            "a proxy, or HF_ENDPOINT, and push again."
        )
    raise error


def push_student(
    output_dir: str | os.PathLike,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    commit_message: str = DEFAULT_COMMIT_MESSAGE,
    token: str | None = None,
    dry_run: bool = False,
) -> PushResult:
    """Publish the student in ``output_dir`` to the Hub repository ``repo_id`` in one commit.

    Args:
        output_dir: the student folder (e.g. ``OUTPUT_DIR/student`` of a recipe).
        repo_id: ``namespace/name``; the repository is created when missing: private with ``private=True``,
            else with the namespace's default visibility (an existing repository keeps its visibility).
        revision: the branch to commit to (created from ``main`` when missing); default ``main``.
        commit_message: the commit's title.
        token: a Hub token; default: huggingface_hub's usual sources (``HF_TOKEN``, the stored login).
        dry_run: check the folder and return the plan without any network call.

    Raises:
        FileNotFoundError, ValueError: the folder cannot be published as it is (before any network call).
        PushError: the Hub or the network failed; the message says what to do. The local folder is unchanged.
    """
    from huggingface_hub import HfApi, get_token
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        raise ValueError(f"{repo_id!r} is not a valid Hub repository id: {error}") from error
    plan = prepare_upload(output_dir, repo_id=repo_id)
    if dry_run:
        return PushResult(repo_id=repo_id, plan=plan, revision=revision)

    api = HfApi(token=token)
    secrets = [token or "", get_token() or ""]
    stage = f"Creating the repository {repo_id}"
    try:
        api.create_repo(repo_id, private=private or None, exist_ok=True)  # None: the namespace's default
        if revision not in (None, "main"):
            stage = f"Creating the branch {revision}"
            api.create_branch(repo_id, branch=revision, exist_ok=True)
        stage = f"Uploading {len(plan.files)} files to {repo_id}"
        commit = api.upload_folder(
            folder_path=str(plan.folder),
            repo_id=repo_id,
            revision=revision,
            commit_message=commit_message,
            allow_patterns=plan.files,
            ignore_patterns=list(IGNORE_PATTERNS),
        )
    except Exception as error:  # explain_failure re-raises what it cannot explain
        raise PushError(explain_failure(error, repo_id, stage, secrets)) from None
    return PushResult(
        repo_id=repo_id, plan=plan, revision=revision, commit_url=commit.commit_url, commit_oid=commit.oid
    )
