"""Publishing: what a push uploads (safetensors only, no stray files), a push through a local Hub-compatible server
and loading back with ``from_pretrained``, failures (401, 403, 500, connection refused), a second push and a
branch. Pushes run in subprocesses: huggingface_hub reads HF_ENDPOINT when it is imported, and the tests' own
process stays offline (``tests/conftest.py``)."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from conftest import perturbed
from hub_server import HubServer, free_port_refusing_connections
from transformers import BertConfig, BertForMaskedLM

from hf_rudistill.alignment import VocabMapping
from hf_rudistill.cli import main
from hf_rudistill.hub import PushError, prepare_upload, push_student
from hf_rudistill.model_card import write_model_card

TOKEN = "hf_test" + secrets.token_hex(16)  # a unique string to look for in every output and file
REPO = "tester/tiny-student"
PUBLISHED = {
    "README.md",
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab_mapping.json",
    "vocab_mapping.safetensors",
    "distillation_config.json",
}
STRAY = {"pytorch_model.bin", "training_args.bin", "training_args.json", "training_facts.json", "notes.txt"}


@pytest.fixture(scope="module")
def hub():
    server = HubServer(TOKEN).start()
    yield server
    server.stop()


def make_student(directory: Path, teacher_tokenizer) -> Path:
    """A hidden-32 student from a config, its own 400-token vocabulary, the mapping from a 1,200-token teacher
    vocabulary, and the stray files a training run leaves (pickles, a checkpoint, logs)."""
    tokenizer = teacher_tokenizer("wordpiece", 400)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    )
    model = perturbed(BertForMaskedLM(config))
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    VocabMapping.build(teacher_tokenizer("wordpiece"), tokenizer).save_pretrained(directory)
    (directory / "distillation_config.json").write_text(json.dumps({"alpha_mlm": 0.5, "alpha_mse": 0.1}))
    torch.save(model.state_dict(), directory / "pytorch_model.bin")
    (directory / "training_args.bin").write_bytes(b"\x80\x04pickled arguments")
    (directory / "training_args.json").write_text("{}")
    (directory / "training_facts.json").write_text("{}")
    (directory / "notes.txt").write_text("scratch notes")
    (directory / "checkpoint-2").mkdir()
    (directory / "checkpoint-2" / "model.safetensors").write_bytes((directory / "model.safetensors").read_bytes())
    return directory


@pytest.fixture
def student(tmp_path, teacher_tokenizer) -> Path:
    return make_student(tmp_path / "student", teacher_tokenizer)


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def assert_token_nowhere(*places) -> None:
    for place in places:
        if isinstance(place, Path):
            for path in place.rglob("*"):
                assert not path.is_file() or TOKEN.encode() not in path.read_bytes(), f"token written to {path}"
        else:
            assert TOKEN not in place


def push(hub: HubServer, tmp_path: Path, *args: str, endpoint: str | None = None) -> subprocess.CompletedProcess:
    env = hub.client_environment(os.environ, home=str(tmp_path / "hf_home"))
    if endpoint:
        env["HF_ENDPOINT"] = endpoint
    command = [sys.executable, "-m", "hf_rudistill.cli", "push", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


# ---- the plan (no network) -----------------------------------------------------------------------------------


def test_dry_run_lists_safetensors_and_student_files_only(student, capsys):
    # conftest sets HF_HUB_OFFLINE=1: any network call would fail, so passing shows the dry run makes none
    assert main(["push", str(student), REPO, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"wrote the model card {student / 'README.md'}" in out
    assert f"dry run: would upload to {REPO}@main in one commit" in out
    plan = prepare_upload(student)
    assert set(plan.files) == PUBLISHED
    assert set(plan.left_out) == STRAY | {"checkpoint-2"}
    assert "pickle" in plan.left_out["pytorch_model.bin"] and "pickle" in plan.left_out["training_args.bin"]
    listed = out.split("left out:")[0]
    assert all(f"  {name}  (" in listed for name in PUBLISHED) and not any(f"  {n}  (" in listed for n in STRAY)


def test_folders_that_cannot_be_published_are_refused_before_any_change(student):
    (student / "model.safetensors").unlink()
    before = snapshot(student)
    with pytest.raises(ValueError, match=r"no safetensors weights \(only pickled weights: pytorch_model.bin"):
        prepare_upload(student)
    (student / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(ValueError, match="model.safetensors is not a readable safetensors file"):
        prepare_upload(student)
    (student / "model.safetensors").unlink()
    assert snapshot(student) == before  # no README written, nothing removed

    bare = student.parent / "bare"
    bare.mkdir()
    (bare / "config.json").write_text("{}")
    (bare / "model.safetensors").write_bytes((student / "checkpoint-2" / "model.safetensors").read_bytes())
    with pytest.raises(ValueError, match="no tokenizer files"):
        prepare_upload(bare)
    with pytest.raises(FileNotFoundError, match="No student folder"):
        prepare_upload(student.parent / "missing")


def test_offline_mode_is_explained_without_touching_the_folder(student):
    write_model_card(student, repo_id=REPO)
    before = snapshot(student)
    with pytest.raises(PushError, match=f"^Creating the repository {REPO}: HF_HUB_OFFLINE is set"):
        push_student(student, REPO, token=TOKEN)  # this process is offline (tests/conftest.py)
    assert snapshot(student) == before


def test_a_card_with_broken_metadata_is_refused(student):
    (student / "README.md").write_text("---\nlicense: [unclosed\n---\n# card\n")
    with pytest.raises(ValueError, match="README.md has invalid metadata"):
        prepare_upload(student)


# ---- through the local Hub ---------------------------------------------------------------------------------

LOAD_BACK = textwrap.dedent(
    """
    import json, sys
    import torch
    from huggingface_hub import HfApi
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    folder, repo = sys.argv[1], sys.argv[2]
    texts = ["Москва — столица России.", "Он пошёл в лес за грибами, но вернулся с пустой корзиной."]
    outputs = {}
    for source in (folder, repo):
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForMaskedLM.from_pretrained(source).eval()
        batch = tokenizer(texts, padding=True, return_tensors="pt")
        with torch.no_grad():
            outputs[source] = (batch["input_ids"], model(**batch).logits)
    api = HfApi()
    print(json.dumps({
        "ids_equal": torch.equal(outputs[folder][0], outputs[repo][0]),
        "logits_equal": torch.equal(outputs[folder][1], outputs[repo][1]),
        "files": sorted(api.list_repo_files(repo)),
        "commits": [commit.title for commit in api.list_repo_commits(repo)],
    }))
    """
)


def test_push_load_back_push_again_and_to_a_branch(hub, student, tmp_path):
    first = push(hub, tmp_path, str(student), REPO, "--private", "--commit-message", "First distilled student")
    assert first.returncode == 0, first.stderr
    assert "wrote the model card" in first.stdout and f"commit: {hub.endpoint}/{REPO}/commit/" in first.stdout
    repo = hub.repo(REPO)
    assert repo.private
    head = repo.resolve("main")
    assert set(head.files) == PUBLISHED | {".gitattributes"}
    assert all(head.files[name] == (student / name).read_bytes() for name in PUBLISHED)
    assert set(head.lfs) == {"model.safetensors", "vocab_mapping.safetensors"}  # large files went through LFS

    same = push(hub, tmp_path, str(student), REPO, "--commit-message", "Nothing new")
    assert same.returncode == 0, same.stderr
    assert repo.resolve("main").oid == head.oid  # nothing changed: no empty commit (as on the Hub)

    write_model_card(student, repo_id=REPO, license="mit")  # a changed card: the second push has something new
    second = push(hub, tmp_path, str(student), REPO, "--commit-message", "Card with the MIT license")
    assert second.returncode == 0, second.stderr
    assert repo.resolve("main").oid != head.oid
    assert [c.title for c in repo.history("main")] == [
        "Card with the MIT license", "First distilled student", "initial commit"
    ]  # fmt: skip
    assert b"license: mit" in repo.resolve("main").files["README.md"]

    env = hub.client_environment(os.environ, home=str(tmp_path / "hf_home"))
    loaded = subprocess.run(
        [sys.executable, "-c", LOAD_BACK, str(student), REPO], env=env, capture_output=True, text=True, timeout=300
    )
    assert loaded.returncode == 0, loaded.stderr
    result = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert result["ids_equal"] and result["logits_equal"]
    assert set(result["files"]) == PUBLISHED | {".gitattributes"}
    assert result["commits"][:2] == ["Card with the MIT license", "First distilled student"]

    write_model_card(student, repo_id=REPO, license="cc-by-4.0")
    branch = push(hub, tmp_path, str(student), REPO, "--revision", "dev", "--commit-message", "On a branch")
    assert branch.returncode == 0, branch.stderr
    assert repo.resolve("dev").title == "On a branch" and repo.resolve("main").title == "Card with the MIT license"
    assert hub.state.unhandled == []
    for run in (first, same, second, loaded, branch):
        assert_token_nowhere(run.stdout, run.stderr)
    assert_token_nowhere(tmp_path)


@pytest.mark.parametrize(
    "failure, expected",
    [
        ({"any": 401}, ["401 Unauthorized", "hf auth login", "HF_TOKEN"]),
        ({"commit": 403}, ["403 Forbidden", "write access", "'tester' namespace"]),
        ({"commit": 500}, ["HTTP 500", "nothing was committed", "try again later"]),
        (None, ["could not reach the Hub at http://127.0.0.1:", "HF_ENDPOINT"]),
    ],
    ids=["401", "403", "500", "connection-refused"],
)
def test_failures_give_one_clear_line_and_leave_the_folder_intact(hub, student, tmp_path, failure, expected):
    repo_id = f"tester/failing-{len(hub.state.repos)}"
    write_model_card(student, repo_id=repo_id)
    before = snapshot(student)
    hub.state.fail, hub.state.echo_authorization = failure or {}, True  # the server repeats the token in errors
    try:
        endpoint = None if failure else f"http://127.0.0.1:{free_port_refusing_connections()}"
        result = push(hub, tmp_path, str(student), repo_id, endpoint=endpoint)
    finally:
        hub.state.reset_failures()
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("rudistill push: error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    assert all(part in errors[0] for part in expected), errors[0]
    assert errors[0].endswith(f"Nothing in {student} was changed.")
    assert snapshot(student) == before
    repo = hub.repo(repo_id)
    assert repo is None or [c.title for c in repo.history("main")] == ["initial commit"]
    assert_token_nowhere(result.stdout, result.stderr, tmp_path)
