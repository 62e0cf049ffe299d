"""``skillpm bench`` through the console script: the --cpu harness end to end, and its errors.

There is no GPU here: the GPU test is marked ``gpu`` and skipped without one,
and no GPU figure is written anywhere by these tests.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from skillpm.benchmark import BenchError, harness
from skillpm.benchmark.evidence import source_digest
from skillpm.manifest import SkillSource, choose_variant
from skillpm.pack import pack
from skillpm.targets import Capability

ROOT = Path(__file__).resolve().parent.parent
SKILL = ROOT / "skills" / "kernel-builder-cuda"
VERSION = tomllib.loads((SKILL / "skillpm.toml").read_text())["package"]["version"]
SCHEMA = json.loads((ROOT / "schemas" / "bench-evidence.schema.json").read_text())
HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed (pip install 'skillpm[kernels]')")
INSTALL = "pip install 'skillpm[kernels]'"


def _cuda_available() -> bool:
    if not HAS_TORCH:
        return False
    with warnings.catch_warnings():  # torch warns when numpy is missing
        warnings.simplefilter("ignore")
        import torch

    return bool(torch.cuda.is_available())


def assert_one_error(result: subprocess.CompletedProcess[str], *, contains: str) -> None:
    """One ``error:`` line (and at most a ``hint:``) on stderr, nothing on stdout, no traceback, exit 1."""
    lines = result.stderr.splitlines()
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines and lines[0].startswith("error: ") and contains in lines[0], result.stderr
    assert len(lines) <= 2 and all(line.startswith("hint: ") for line in lines[1:]), result.stderr
    assert result.stdout == ""


@pytest.fixture(scope="module")
def cpu_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One ``skillpm bench --cpu --with-tests --json`` run on small sizes, both dtypes, both GELU forms."""
    if not HAS_TORCH:
        pytest.skip("torch is not installed (pip install 'skillpm[kernels]')")
    out = tmp_path_factory.mktemp("bench") / "evidence.json"
    result = subprocess.run(
        [sys.executable, "-m", "skillpm", "bench", SKILL, "--cpu", "--arch", "9.0", "--sizes", "8x768,4x2048",
         "--dtype", "bf16", "--dtype", "fp32", "--runs", "5", "--warmup", "1", "--with-tests", "--out", out, "--json"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result, out


def test_cpu_evidence_validates_and_is_not_gpu_evidence(cpu_run) -> None:
    result, out = cpu_run
    document = json.loads(out.read_text())
    assert json.loads(result.stdout) == document
    assert list(Draft202012Validator(SCHEMA).iter_errors(document)) == []
    assert document["gpu_evidence"] is False
    assert document["device"]["kind"] == "cpu" and document["device"]["capability"] is None
    assert document["device"]["peak_gbps"] is None and document["method"]["timer"] == "perf_counter"
    assert document["method"]["l2_flush"] is False and document["method"]["l2_flush_bytes"] is None
    assert document["device"]["l2_bytes"] is None and document["device"]["max_clocks_mhz"]["sm"] is None
    # the kernel project's own tests ran: the CPU model's pass, the GPU tests skip
    tests = document["tests"]
    assert tests["passed"] > 0 and tests["skipped"] > 0 and tests["failed"] == tests["errors"] == 0
    assert [(r["rows"], r["hidden"], r["dtype"], r["gelu"]) for r in document["results"]] == [
        (8, 768, "bf16", "none"), (4, 2048, "bf16", "none"), (8, 768, "bf16", "tanh"), (4, 2048, "bf16", "tanh"),
        (8, 768, "fp32", "none"), (4, 2048, "fp32", "none"), (8, 768, "fp32", "tanh"), (4, 2048, "fp32", "tanh"),
    ]  # fmt: skip
    for entry in document["results"]:
        assert entry["kernel"]["pct_of_peak"] is None and entry["kernel"]["runs"] == 5
        # the stand-in and the copy went through the same timer; nothing GPU-only was invented
        assert entry["copy"]["runs"] == 5 and entry["pct_of_copy"] == pytest.approx(
            100 * entry["kernel"]["gbps"] / entry["copy"]["gbps"]
        )
        assert entry["code_path"]["kernel"] == "cpu-composed-reference" and entry["code_path"]["gelu"] == entry["gelu"]
        assert entry["code_path"]["elements_per_thread"] is None and entry["clocks_mhz"] == {"sm": None, "memory": None}
        assert entry["max_abs_error"] <= entry["tolerance"]["atol"] + entry["tolerance"]["rtol"] * 10
    # the tolerances the kernel project states (tests/reference.py), bf16 first
    assert document["results"][0]["tolerance"] == {"atol": 2.0**-15, "rtol": 2.0**-7 + 2.0**-12}


@needs_torch
def test_a_kernel_file_linked_from_the_repository_is_benched_with_links_within(cpu_run, tmp_path: Path) -> None:
    """The skill's build script is a link to a copy its repository shares: refused as pack refuses it, and
    with --links-within the repository the same kernel sources are built and timed as from the skill itself."""
    import shutil

    repo = tmp_path / "repo"
    skill = Path(shutil.copytree(SKILL, repo / "skills" / SKILL.name))
    shared = repo / "shared" / "build_ext.py"
    shared.parent.mkdir()
    linked = skill / "assets" / "layernorm_gelu" / "build_ext.py"
    shutil.move(linked, shared)
    linked.symlink_to(Path("..", "..", "..", "..", "shared", "build_ext.py"))
    ask = [sys.executable, "-m", "skillpm", "bench", skill, "--cpu", "--arch", "9.0", "--sizes", "8x768", "--runs", "2",
           "--warmup", "0", "--out", tmp_path / "evidence.json"]
    run = lambda *more: subprocess.run([*ask, *more], capture_output=True, text=True, timeout=120,  # noqa: E731
                                       env={**os.environ, "NO_COLOR": "1"})
    assert_one_error(run(), contains="--links-within DIR")
    result = run("--links-within", repo, "--json")
    assert result.returncode == 0, result.stderr
    ours, reference = json.loads(result.stdout), json.loads(cpu_run[1].read_text())
    assert ours["kernel"]["sources"] == reference["kernel"]["sources"] and "build_ext.py" in ours["kernel"]["sources"]


def test_cpu_evidence_names_the_artifact_and_the_kernel_sources(cpu_run, tmp_path: Path) -> None:
    _, out = cpu_run
    document = json.loads(out.read_text())
    hopper = choose_variant(SkillSource.load(SKILL).targets, Capability(9, 0))  # what --arch 9.0 picks
    (built,) = pack(SKILL, tmp_path, targets=[hopper])
    assert document["skill"] == {
        "name": "kernel-builder-cuda", "version": VERSION, "target": hopper, "artifact_sha256": built.sha256,
    }  # fmt: skip
    kernel = document["kernel"]
    assert kernel["project"] == "assets/layernorm_gelu" and kernel["implementation"] == "cpu-composed-reference"
    assert kernel["source_digest"] == source_digest(kernel["sources"])
    prefix = "assets/layernorm_gelu/"
    shipped = {path[len(prefix):]: digest for path, digest in built.metadata.files.items() if path.startswith(prefix)}
    assert all(shipped[path] == digest for path, digest in kernel["sources"].items())


@needs_torch
def test_cpu_text_output_and_default_file_name(isolated, run_skillpm) -> None:
    result = run_skillpm("bench", SKILL, "--cpu", "--sizes", "4x768", "--runs", "2", "--warmup", "0")
    assert result.returncode == 0, result.stderr
    written = isolated.project / f"bench-kernel-builder-cuda-{VERSION}-generic-cpu.json"
    assert written.is_file() and f"wrote {written.name} (not GPU evidence)" in result.stdout
    assert "4x768" in result.stdout and "benchmarking variant generic" in result.stderr


@needs_torch
@pytest.mark.skipif(_cuda_available(), reason="a CUDA GPU is present")
def test_no_gpu_is_one_line_error(isolated, run_skillpm) -> None:
    result = run_skillpm("bench", SKILL, "--arch", "9.0")
    assert_one_error(result, contains="no CUDA GPU is visible")
    assert "--cpu" in result.stderr
    assert list(isolated.project.iterdir()) == [isolated.project / ".git"]


def _without_torch(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess in which ``import torch`` fails, as where torch is not installed."""
    wrapper = "import sys; sys.modules['torch'] = None; from skillpm.cli import main; sys.argv[0] = 'skillpm'; main()"
    return subprocess.run(
        [sys.executable, "-c", wrapper, *map(str, args)],
        capture_output=True, text=True, timeout=60, cwd=cwd, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip


@pytest.mark.parametrize("extra", [["--cpu"], ["--arch", "9.0"]])
def test_missing_torch_says_how_to_install(isolated, extra: list[str]) -> None:
    result = _without_torch("bench", SKILL, *extra, cwd=isolated.project)
    assert_one_error(result, contains=INSTALL)
    assert "torch" in result.stderr


def test_missing_ninja_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "ninja", None)
    with pytest.raises(BenchError, match="needs ninja") as raised:
        harness.ninja_dir()
    assert INSTALL in raised.value.message and "\n" not in raised.value.message


@pytest.mark.skipif(importlib.util.find_spec("ninja") is None, reason="the ninja package is not installed")
def test_ninja_from_the_pip_package_is_found_off_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ninja

    monkeypatch.setenv("PATH", str(tmp_path))
    assert harness.ninja_dir() == str(ninja.BIN_DIR)


@pytest.mark.parametrize(
    ("args", "contains"),
    [
        (["--sizes", "4096"], "cannot read '4096' as a size"),
        (["--target", "sm_70"], "no variant 'sm_70'"),
        pytest.param(
            ["--kernel", "assets/nothing"],
            "is not a kernel project",
            marks=pytest.mark.skipif(
                importlib.util.find_spec("torch") is None, reason="torch is checked first; not installed"
            ),
        ),
    ],
)
def test_bad_requests_are_one_line_errors(isolated, run_skillpm, args: list[str], contains: str) -> None:
    assert_one_error(run_skillpm("bench", SKILL, "--cpu", *args), contains=contains)


def test_bench_is_listed_in_help(run_cli) -> None:
    result = run_cli("--help")
    assert result.exit_code == 0 and "bench" in result.output
    assert "skillpm[kernels]" in run_cli("bench", "--help").output


@pytest.mark.gpu
@pytest.mark.skipif(not _cuda_available(), reason="needs a CUDA GPU")
def test_gpu_bench_writes_gpu_evidence(isolated, run_skillpm) -> None:  # pragma: no cover - no GPU here
    out = isolated.tmp / "gpu-evidence.json"
    result = run_skillpm("bench", SKILL, "--sizes", "1024x768", "--runs", "10", "--out", out, "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    assert list(Draft202012Validator(SCHEMA).iter_errors(document)) == []
    assert document["device"]["kind"] == "gpu" and document["method"]["timer"] == "cuda-events"
    assert document["kernel"]["implementation"] in ("f32", "f32x2")
    assert document["method"]["l2_flush_bytes"] >= 2 * document["device"]["l2_bytes"]
    assert {r["code_path"]["gelu"] for r in document["results"]} == {"none", "tanh"}
    assert document["gpu_evidence"] is (document["device"]["peak_gbps"] is not None)


def test_bench_modules_import_no_torch() -> None:
    code = (
        "import sys, skillpm.cli, skillpm.benchmark.run, skillpm.benchmark.harness; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'ninja', 'jsonschema')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_options_fill_in_each_devices_defaults() -> None:
    from skillpm.benchmark.metrics import DEFAULT_CPU_SIZES, DEFAULT_GPU_SIZES, Size
    from skillpm.benchmark.run import BenchOptions

    assert BenchOptions().resolved() == (DEFAULT_GPU_SIZES, 200, 25)
    assert BenchOptions().forms == ("none", "tanh")
    assert BenchOptions(cpu=True).resolved() == (DEFAULT_CPU_SIZES, 20, 3)
    assert BenchOptions(cpu=True, sizes=(Size(2, 8),), runs=1, warmup=0).resolved() == ((Size(2, 8),), 1, 0)


def test_summary_names_the_code_path() -> None:
    from skillpm.benchmark.observe import CodePath, code_path
    from skillpm.cli.bench import _path

    ran = code_path("void lng::layernorm_gelu_kernel<float, 32, false, (lng::Access)0, (lng::Gelu)1>(...)")
    assert _path(ran.to_json()) == "cta x32 vec16-exact"
    assert _path(CodePath("cpu-composed-reference", gelu="none").to_json()) == "-"


def test_the_kernel_project_s_tests_see_none_of_skillpm_s_secrets(tmp_path: Path, monkeypatch) -> None:
    """--with-tests ran the project's pytest with the whole environment, registry tokens and signing passphrases
    included (a review found what git and credential helpers no longer get still went there)."""
    from skillpm.benchmark.harness import tests_environment

    monkeypatch.setenv("SKILLPM_TOKEN_TEAM", "t0ken")
    monkeypatch.setenv("SKILLPM_SIGNING_KEY_PASSPHRASE", "pass")
    monkeypatch.setenv("SIGSTORE_ID_TOKEN", "oidc")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    env = tests_environment(tmp_path, "/opt/ninja/bin")
    assert not {"SKILLPM_TOKEN_TEAM", "SKILLPM_SIGNING_KEY_PASSPHRASE", "SIGSTORE_ID_TOKEN"} & set(env)
    assert env["CUDA_VISIBLE_DEVICES"] == "0" and env["TORCH_EXTENSIONS_DIR"] == str(tmp_path)
    assert env["PATH"].startswith("/opt/ninja/bin" + os.pathsep)
