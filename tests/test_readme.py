"""README's set-up commands and CI stay in step."""
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    test_cmd = next(line for line in readme.splitlines() if "pytest" in line and line.startswith("python3 -m venv"))
    assert test_cmd in (REPO / ".ci" / "run").read_text()
    assert any(line.startswith("python3 -m venv") and "zoo demo" in line for line in readme.splitlines())
