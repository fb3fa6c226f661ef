"""README's fresh-machine commands are the ones CI runs."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_the_readme_test_command() -> None:
    readme = ROOT.joinpath("README.md").read_text()
    ci = ROOT.joinpath(".ci/run").read_text()
    command = next(line for line in readme.splitlines() if line.endswith("python -m pytest -q"))
    assert command in ci.splitlines()


def test_readme_has_demo_command() -> None:
    readme = ROOT.joinpath("README.md").read_text()
    assert "demo.py" in readme and (ROOT / "examples" / "demo.py").exists()
