"""The upload store: atomic adds from concurrent processes, restart, delete, LRU eviction in the registry."""

import multiprocessing as mp
from pathlib import Path

import numpy as np
import pytest

from models import ModelRegistry, UnknownModel
from models.store import ModelStore, save_samples
from tests.uploads import attach_store, upload


def _add(root: str, tag: str, n: int, barrier) -> list[str]:
    store = ModelStore(root)
    barrier.wait()
    names = []
    for i in range(n):
        content = f"{tag}-{i % 3}".encode()  # some contents shared between the processes
        staging = store.tmp_dir()
        (staging / "model.keras").write_bytes(content * 1000)
        save_samples(staging / "samples.npz", x=np.full((2, 4, 4, 1), i, np.float32))
        digest = store.content_hash(content)
        names.append(store.add(digest, staging, {"model_file": "model.keras", "title": tag, "intake": {}}).name)
    return names


def _worker(root, tag, n, barrier, queue):
    queue.put(_add(root, tag, n, barrier))


def test_two_processes_add_concurrently_without_corruption(tmp_path):
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(tmp_path), tag, 9, barrier, queue)) for tag in ("same", "same")]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    store = ModelStore(tmp_path)
    assert sorted(store.names()) == sorted(set(results[0])) == sorted(set(results[1]))
    assert len(store.names()) == 3
    for m in store.list():
        assert m.model_path.read_bytes() == (m.model_path.read_bytes()[:6]) * 1000  # complete, not interleaved
        assert m.meta["sha256"] == m.folder.name
    assert list((tmp_path / "tmp").iterdir()) == []  # no staging folder left behind


def test_restart_lists_uploads_and_delete_removes_everywhere(tmp_path, user_models):
    reg = ModelRegistry(device="cpu")
    name = upload(reg, tmp_path / "store", user_models["gray_sigmoid"])
    assert name in reg.names() and reg.get(name).is_uploaded
    # a "restart": a new registry and store on the same folder
    reg2 = ModelRegistry(device="cpu")
    attach_store(reg2, tmp_path / "store")
    assert name in reg2.names()
    assert reg2.spec(name).input_shape == (28, 28, 1)
    reg2.uploads.delete(name)
    assert name not in reg2.names() and name not in reg.names()
    with pytest.raises(UnknownModel, match="unknown model"):
        reg.get(name)  # the first process still had it in memory: deleting reaches it too
    assert [p.name for p in (tmp_path / "store").iterdir() if p.is_dir()] == ["tmp"]


def test_lru_eviction_keeps_at_most_n_in_memory(tmp_path, user_models):
    reg = ModelRegistry(device="cpu")
    a = upload(reg, tmp_path / "store", user_models["gray_sigmoid"])
    uploads = attach_store(reg, tmp_path / "store", max_models=2)
    b = upload(reg, None, user_models["resnet"])
    c = upload(reg, None, user_models["two_output"])
    reg.get(a)
    reg.get(b)
    assert uploads.loaded_names() == [a, b]
    reg.get(a)  # a is now the most recently used
    reg.get(c)
    assert uploads.loaded_names() == [a, c]  # b was least recently used
    assert not reg.is_loaded(b) and reg.is_loaded(a)
    assert reg.get(b).name == b  # reloads on demand
    assert uploads.loaded_names() == [c, b]


def test_store_dir_setting_and_flags(tmp_path, monkeypatch):
    from dashboard.settings import Settings, argument_parser

    monkeypatch.setenv("KERNELSCOPE_STORE_DIR", str(tmp_path / "env-store"))
    assert Settings().store_dir == tmp_path / "env-store"
    args = argument_parser().parse_args(["--store-dir", str(tmp_path / "s"), "--max-upload-mb", "5",
                                         "--max-models", "2"])
    s = Settings.from_env({}).with_args(args)
    assert (s.store_dir, s.max_upload_mb, s.max_models) == (Path(tmp_path / "s"), 5.0, 2)
    assert s.max_upload_bytes == 5 * 2**20
    assert s.max_request_bytes >= 2 * s.max_upload_bytes * 4 // 3
    assert s.host == "127.0.0.1" and s.debug is False
    with pytest.raises(SystemExit):
        argument_parser().parse_args(["--max-models", "0"])


def test_settings_changed_by_another_process_are_picked_up(tmp_path, user_models):
    from models.intake import Intake

    reg_a, reg_b = ModelRegistry(device="cpu"), ModelRegistry(device="cpu")
    name = upload(reg_a, tmp_path / "store", user_models["resnet"])
    attach_store(reg_b, tmp_path / "store")
    before = reg_b.get(name).x.copy()
    intake = Intake.from_dict(reg_a.uploads.stored(name).meta["intake"])
    intake.scaling = "byte"
    reg_a.uploads.update_intake(name, intake)
    after = reg_b.get(name)
    assert after.intake.scaling == "byte"
    np.testing.assert_allclose(after.x, before * 255.0, rtol=1e-6)
