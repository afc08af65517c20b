"""Cohort manifests, lazy cohorts and dask batch runs (local cluster and a real scheduler)."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner

import sfone
from sfone.batch import run_batch
from sfone.cli import main
from sfone.cohort import combine_per_roi, load_manifest, open_cohort
from sfone.exceptions import FormatError
from sfone.io.events.runs_csv import write_runs_csv

pytest.importorskip("distributed")


@pytest.fixture
def cohort_dir(tmp_path):
    rows = ["path,subject,session,group"]
    for i, (subject, session) in enumerate([("m1", "d1"), ("m1", "d8"), ("m2", "d1")]):
        write_runs_csv(([10.0 * i], [10.0 * i + 5]), tmp_path / f"{subject}_{session}.csv")
        rows.append(f"{subject}_{session}.csv,{subject},{session},ctrl")
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def test_manifest_resolves_paths_and_rejects_duplicates(cohort_dir):
    sessions = load_manifest(cohort_dir / "manifest.csv")
    assert [s.key for s in sessions] == [("m1", "d1"), ("m1", "d8"), ("m2", "d1")]
    assert sessions[0].path == (cohort_dir / "m1_d1.csv").resolve()
    text = (cohort_dir / "manifest.csv").read_text() + "m1_d1.csv,m1,d1,ctrl\n"
    (cohort_dir / "dup.csv").write_text(text)
    with pytest.raises(FormatError, match="row 5: subject 'm1' session 'd1' already listed at row 2"):
        load_manifest(cohort_dir / "dup.csv")
    (cohort_dir / "bad.csv").write_text("file,subject\nx,m1\n")
    with pytest.raises(FormatError, match="lacks column"):
        load_manifest(cohort_dir / "bad.csv")


def test_yaml_manifest_equals_csv(cohort_dir):
    (cohort_dir / "manifest.yaml").write_text(
        "sessions:\n" + "".join(f"  - {{path: {s}_{d}.csv, subject: {s}, session: {d}, group: ctrl}}\n"
                                for s, d in [("m1", "d1"), ("m1", "d8"), ("m2", "d1")]))
    assert load_manifest(cohort_dir / "manifest.yaml") == load_manifest(cohort_dir / "manifest.csv")


def test_open_cohort_reads_on_first_access(cohort_dir, monkeypatch):
    calls = []
    original = sfone.io.read
    monkeypatch.setattr("sfone.io.read", lambda *a, **k: calls.append(a) or original(*a, **k))
    cohort = open_cohort(cohort_dir / "manifest.csv")
    assert len(cohort) == 3 and calls == []
    ds = cohort["m1", "d8"]
    assert len(calls) == 1 and ds.attrs["subject"] == "m1" and ds.attrs["group"] == "ctrl"
    np.testing.assert_array_equal(ds["start"].values, [10.0])


def test_combine_per_roi_keeps_subject_session_roi():
    a = xr.Dataset({"label": ("roi", ["activated", "unchanged"])}, coords={"roi": [3, 7]})
    b = xr.Dataset({"label": ("roi", ["inhibited"])}, coords={"roi": [0]})
    combined = combine_per_roi({("m1", "d1"): a, ("m2", "d8"): b})
    table = combined.to_dataframe()
    assert list(table["subject"]) == ["m1", "m1", "m2"]
    assert list(table["roi"]) == [3, 7, 0]
    assert list(table["label"]) == ["activated", "unchanged", "inhibited"]


def test_batch_records_failures_skips_done_and_forces(cohort_dir):
    (cohort_dir / "m2_d1.csv").write_text("start_s,end_s\n5,1\n")  # end before start
    out = cohort_dir / "out"
    result = run_batch(cohort_dir / "manifest.csv", "convert", out, workers=1)
    assert sorted(result.done) == [("m1", "d1"), ("m1", "d8")]
    assert [f["subject"] for f in result.failed] == ["m2"]
    errors = (out / "errors.csv").read_text()
    assert "m2,d1" in errors and "end_s 1.0 is not after start_s 5.0" in errors
    back = sfone.read(out / "sessions" / "m1__d8.nc")
    np.testing.assert_array_equal(back["end"].values, [15.0])
    again = run_batch(cohort_dir / "manifest.csv", "convert", out, workers=1)
    assert sorted(again.skipped) == [("m1", "d1"), ("m1", "d8")] and again.done == []
    forced = run_batch(cohort_dir / "manifest.csv", "convert", out, workers=1, force=True)
    assert len(forced.done) == 2 and len(forced.failed) == 1


def test_batch_cli_exit_code_says_something_failed(cohort_dir):
    (cohort_dir / "m2_d1.csv").write_bytes(b"\x00garbage")
    result = CliRunner().invoke(main, ["batch", str(cohort_dir / "manifest.csv"), "--task",
                                       "convert", "--out", str(cohort_dir / "o")])
    assert result.exit_code == 1
    assert "2 done, 0 skipped (already done), 1 failed" in result.output
    unknown = CliRunner().invoke(main, ["batch", str(cohort_dir / "manifest.csv"), "--task",
                                        "nope", "--out", str(cohort_dir / "o2")])
    assert unknown.exit_code == 1
    assert ("task must be one of 'calorimetry-summary', 'classify', 'convert' or 'dff', got "
            "'nope'") in unknown.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PLUGIN_MODULE = '''
"""A lab's own batch task, in a module of its own (not in sfone)."""
import pandas as pd

import sfone
from sfone.batch import BatchTask


def _n_samples(session):
    ds = sfone.read(session.path)
    return pd.DataFrame({"subject": [session.subject], "n_epochs": [ds.sizes["epoch"]]})


def _concat(summaries):
    return pd.concat(list(summaries.values()), ignore_index=True)


N_EPOCHS = BatchTask(name="n-epochs", run=_n_samples, combine=_concat,
                     description="epochs per session (a test plugin)")
'''


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    """A folder holding the module ``lab_tasks`` (a custom task), on this process's path."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "lab_tasks.py").write_text(PLUGIN_MODULE)
    monkeypatch.syspath_prepend(str(folder))
    return folder


@pytest.fixture
def dask_cluster(tmp_path, plugin_dir):
    """A real `dask scheduler` and two `dask worker` processes on 127.0.0.1 (they see the plugin
    folder on their PYTHONPATH, as a lab's cluster would see its analysis code)."""
    dask_cli = shutil.which("dask", path=str(Path(sys.executable).parent))
    if dask_cli is None:
        pytest.skip("the dask command line is not installed")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    # the scheduler unpickles the task graph too: it needs the task's module like the workers
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(plugin_dir), *filter(None, [os.environ.get("PYTHONPATH")])])}
    # --dashboard-address: the scheduler's HTTP server (on even without a dashboard) takes any
    # free port, not 8787, which the serial run's LocalCluster would then find taken
    procs = [subprocess.Popen([dask_cli, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard", "--dashboard-address", "127.0.0.1:0"],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, cwd=tmp_path, env=env)]
    try:
        from distributed import Client

        deadline = time.monotonic() + 60
        while True:
            try:
                Client(address, timeout="2s").close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        for _ in range(2):
            procs.append(subprocess.Popen(
                [dask_cli, "worker", address, "--nthreads", "1", "--no-dashboard",
                 "--local-directory", str(tmp_path)], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, cwd=tmp_path, env=env))
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_batch_on_real_scheduler_equals_serial_run(cohort_dir, dask_cluster):
    serial = run_batch(cohort_dir / "manifest.csv", "convert", cohort_dir / "serial", workers=1)
    remote = run_batch(cohort_dir / "manifest.csv", "convert", cohort_dir / "remote",
                       scheduler=dask_cluster)
    assert sorted(remote.done) == sorted(serial.done) and len(remote.done) == 3
    for key in serial.done:
        name = f"{key[0]}__{key[1]}.nc"
        xr.testing.assert_identical(sfone.read(cohort_dir / "serial" / "sessions" / name),
                                    sfone.read(cohort_dir / "remote" / "sessions" / name))


def test_custom_task_runs_on_a_real_scheduler(cohort_dir, dask_cluster, monkeypatch):
    """A task from outside sfone travels to separate worker processes as an object (by
    reference to its module), whether given directly or registered by name."""
    from lab_tasks import N_EPOCHS

    import sfone.batch.registry as registry
    from sfone.batch import register_task

    monkeypatch.setattr(registry, "_TASKS", dict(registry.batch_tasks()))  # registered for this test

    direct = run_batch(cohort_dir / "manifest.csv", N_EPOCHS, cohort_dir / "direct",
                       scheduler=dask_cluster)
    assert direct.ok and len(direct.done) == 3, direct.failed
    register_task(N_EPOCHS)
    by_name = run_batch(cohort_dir / "manifest.csv", "n-epochs", cohort_dir / "by-name",
                        scheduler=dask_cluster)
    assert by_name.ok and len(by_name.done) == 3, by_name.failed
    combined = pd.read_csv(cohort_dir / "by-name" / "combined.csv")
    assert sorted(combined["n_epochs"]) == [1, 1, 1]
    assert sorted(combined["subject"]) == ["m1", "m1", "m2"]


def test_third_party_tasks_come_from_the_entry_point_group(tmp_path, plugin_dir, monkeypatch):
    import sfone.batch.registry as registry

    dist = plugin_dir / "lab_tasks-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: lab-tasks\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[sfone.batch_tasks]\nn-epochs = lab_tasks:N_EPOCHS\n"
                                           "broken = lab_tasks:NO_SUCH_TASK\n")
    monkeypatch.setattr(registry, "_TASKS", {})
    monkeypatch.setattr(registry, "_DISCOVERED", False)
    with pytest.warns(sfone.SfoneWarning, match="broken"):
        tasks = registry.batch_tasks()
    assert "n-epochs" in tasks and {"convert", "classify", "dff"} <= set(tasks)
    assert tasks["n-epochs"].description == "epochs per session (a test plugin)"


def test_builtin_tasks_module_does_not_import_the_registry_or_the_runner():
    """``batch.builtin`` takes :class:`BatchTask` from ``batch.task`` only (the registry imports
    the built-in tasks, so an import back would be a cycle)."""
    import ast

    source = (Path(sfone.__file__).parent / "batch" / "builtin.py").read_text()
    imported = {node.module for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 1}
    assert imported == {"task"}


def test_classify_batch_combines_per_roi_labels_equal_to_direct_calls(tmp_path):
    from sfone.classify import label_responses
    from sfone.protocols import load_protocol

    samples = Path(__file__).resolve().parents[1] / "data_samples" / "imaging_cohort"
    manifest = samples / "manifest.csv"
    lines = manifest.read_text().splitlines()[:3]  # two sessions keep the test short
    rows = [lines[0]] + [",".join(str(samples / v) if i in (0, 5, 6) else v
                                  for i, v in enumerate(line.split(","))) for line in lines[1:]]
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    result = run_batch(tmp_path / "m.csv", "classify", tmp_path / "out", workers=2)
    assert len(result.done) == 2 and result.ok
    table = xr.open_dataset(tmp_path / "out" / "combined.nc", engine="h5netcdf").load()
    protocol = load_protocol(samples / "classification.yaml")
    for subject, session in result.done:
        direct = label_responses(sfone.read(samples / f"{subject}_{session}"),
                                 samples / f"{subject}_{session}_runs.csv", protocol=protocol)
        mine = table.where((table.subject == subject) & (table.session == session), drop=True)
        assert list(mine["label"].values) == list(direct["label"].values)
    csv = (tmp_path / "out" / "combined.csv").read_text().splitlines()
    assert csv[0].startswith("unit,") and len(csv) == 1 + table.sizes["unit"]

    # a re-run after one output was removed: one session runs, the other is summarised from its
    # earlier output, and the combined table is the same as after the first run
    first, second = (tmp_path / "out" / "sessions" / f"{s}__{d}.nc" for s, d in sorted(result.done))
    first.unlink()
    again = run_batch(tmp_path / "m.csv", "classify", tmp_path / "out", workers=1)
    assert len(again.done) == 1 and len(again.skipped) == 1 and again.ok
    rerun = xr.open_dataset(tmp_path / "out" / "combined.nc", engine="h5netcdf").load()
    xr.testing.assert_identical(rerun, table)
    # an earlier output that cannot be read any more is a failure that says what to do
    second.write_bytes(b"not netCDF")
    first.unlink()
    broken = run_batch(tmp_path / "m.csv", "classify", tmp_path / "out", workers=1)
    assert len(broken.done) == 1 and broken.skipped == [] and len(broken.failed) == 1
    assert "unreadable" in broken.failed[0]["error"] and "--force" in broken.failed[0]["error"]


def test_batch_lists_its_tasks_without_a_manifest():
    result = CliRunner().invoke(main, ["batch", "--list-tasks"])
    assert result.exit_code == 0, result.output
    names = [line.split()[0] for line in result.output.splitlines()]
    assert names == ["calorimetry-summary", "classify", "convert", "dff"]
    assert "post-run labels per ROI" in result.output


def test_default_workers_one_per_cpu_at_most_one_per_session(monkeypatch):
    from sfone.batch import default_workers

    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert [default_workers(n) for n in (0, 1, 3, 40)] == [1, 1, 3, 8]
    monkeypatch.setattr("os.cpu_count", lambda: None)
    assert default_workers(40) == 1


def test_dff_and_calorimetry_batches_combine_what_direct_calls_give(tmp_path):
    from sfone.calorimetry import summarize_periods
    from sfone.events import as_epochs, prerun_window
    from sfone.imaging import compute_dff
    from sfone.protocols import load_protocol
    from sfone.simulate.calorimetry import simulate_metabolic_cages, write_clams_csv

    samples = Path(__file__).resolve().parents[1] / "data_samples" / "imaging_cohort"
    keys = [("mouse1", "day1"), ("mouse1", "day8")]
    (tmp_path / "imaging.csv").write_text("path,subject,session,runs,classification_protocol\n" + "".join(
        f"{samples / f'{s}_{d}'},{s},{d},{samples / f'{s}_{d}_runs.csv'},"
        f"{samples / 'classification.yaml'}\n" for s, d in keys))
    result = run_batch(tmp_path / "imaging.csv", "dff", tmp_path / "dff", workers=1)
    assert result.ok and sorted(result.done) == keys
    combined = xr.open_dataset(tmp_path / "dff" / "combined.nc", engine="h5netcdf").load()
    baseline_s = load_protocol(samples / "classification.yaml").baseline_s
    for subject, session in keys:
        ds = sfone.read(samples / f"{subject}_{session}")
        epochs = as_epochs(samples / f"{subject}_{session}_runs.csv", recording=ds)
        direct = compute_dff(ds, baseline="window",
                             baseline_window=prerun_window(epochs, baseline_s))
        mine = combined.where((combined.subject == subject) & (combined.session == session),
                              drop=True)
        np.testing.assert_allclose(mine["dff_mean"].values, direct.mean("time").values,
                                   rtol=1e-12)
        np.testing.assert_allclose(mine["dff_max"].values, direct.max("time").values,
                                   rtol=1e-12)

    cages = simulate_metabolic_cages(n_per_group=1, days=1.0, interval_min=15.0, random_state=4)
    rows = "".join(f"{write_clams_csv(cages, tmp_path / f'cage{i}.csv', subject=i)},"
                   f"{cages['subject'].values[i]},week1\n" for i in range(2))
    (tmp_path / "cages.csv").write_text("path,subject,session\n" + rows)
    result = run_batch(tmp_path / "cages.csv", "calorimetry-summary", tmp_path / "cal",
                       workers=1)
    assert result.ok and len(result.done) == 2
    table = pd.read_csv(tmp_path / "cal" / "combined.csv")
    assert list(table["session"].unique()) == ["week1"]
    for i in range(2):
        direct = summarize_periods(sfone.read(tmp_path / f"cage{i}.csv"))
        mine = table[table["subject"] == str(cages["subject"].values[i])]
        np.testing.assert_allclose(mine["ee_kcal_h"].to_numpy(), direct["ee_kcal_h"].to_numpy(),
                                   rtol=1e-12)
        assert list(mine["period"]) == ["full_day", "light", "dark"]


def test_calorimetry_summary_reads_the_calr_session_column(tmp_path):
    from sfone.calorimetry import summarize_periods
    from sfone.io.calorimetry.calr import CalRSession, write_calr_session
    from sfone.simulate.calorimetry import simulate_metabolic_cages, write_clams_csv

    cages = simulate_metabolic_cages(n_per_group=1, days=1.0, interval_min=15.0, random_state=4)
    subjects = [str(s) for s in cages["subject"].values[:2]]
    session = write_calr_session(CalRSession(groups={"chow": [subjects[0]], "hfd": [subjects[1]]},
                                             diet_kcal_per_g={"chow": 3.1, "hfd": 4.7},
                                             light=(8.0, 20.0), light_in_file=True),
                                 tmp_path / "session.csv")
    rows = "".join(f"{write_clams_csv(cages, tmp_path / f'cage{i}.csv', subject=i)},"
                   f"{subjects[i]},week1,session.csv\n" for i in range(2))
    (tmp_path / "cages.csv").write_text("path,subject,session,calr_session\n" + rows)
    result = run_batch(tmp_path / "cages.csv", "calorimetry-summary", tmp_path / "cal",
                       workers=1)
    assert result.ok and len(result.done) == 2
    table = pd.read_csv(tmp_path / "cal" / "combined.csv")
    assert "calr_session" in table.columns
    for i in range(2):
        direct = summarize_periods(sfone.read(tmp_path / f"cage{i}.csv"), session)
        plain = summarize_periods(sfone.read(tmp_path / f"cage{i}.csv"))
        mine = table[table["subject"] == subjects[i]]
        np.testing.assert_allclose(mine["ee_kcal_h"].to_numpy(), direct["ee_kcal_h"].to_numpy(),
                                   rtol=1e-12)
        # the session's 08:00-20:00 light schedule changed the light/dark split
        assert not np.allclose(direct["ee_kcal_h"].to_numpy(), plain["ee_kcal_h"].to_numpy())


def test_an_old_manifest_protocol_column_is_an_error_naming_both_new_columns(tmp_path):
    from sfone.cohort import load_manifest
    from sfone.exceptions import FormatError

    manifest = tmp_path / "old.csv"
    manifest.write_text("path,subject,session,runs,protocol\nm1,m1,d1,runs.csv,p.yaml\n")
    with pytest.raises(FormatError) as info:
        load_manifest(manifest)
    message = str(info.value)
    assert "old.csv" in message and "'protocol'" in message
    assert "'classification_protocol'" in message and "'calr_session'" in message


def test_fresh_output_summary_equals_its_read_back_and_lazy_outputs_are_read_back(tmp_path):
    # a fresh session's summary is taken from memory (netCDF-safe attrs) instead of reading
    # the file back; it must be what a skipped session's read-back gives, and a lazy (dask)
    # output must not travel to the client as a graph
    pytest.importorskip("dask")
    from sfone.batch import BatchTask
    from sfone.batch.combine import session_summary as _summary
    from sfone.batch.outputs import write_output as _write_output

    output = xr.Dataset(
        {"label": ("roi", np.array(["activated", "unchanged"])),
         "p_value": ("roi", np.array([0.01, np.nan]), {"units": "1", "test": {"df": 3}})},
        coords={"roi": [3, 7], "iscell": ("roi", [True, False])},
        attrs={"windows": {"baseline": [-600, 0]}, "fdr": True, "missing": None})
    task = BatchTask(name="t", run=lambda s: output, combine=combine_per_roi)
    path = _write_output(output, tmp_path / "s")
    fresh, read_back = _summary(task, path, output), _summary(task, path)
    a = combine_per_roi({("m1", "d1"): fresh, ("m1", "d2"): read_back})
    b = combine_per_roi({("m1", "d1"): read_back, ("m1", "d2"): read_back})
    xr.testing.assert_identical(a, b)
    lazy = _summary(task, path, output.chunk())
    assert all(v.chunks is None for v in lazy.variables.values())
