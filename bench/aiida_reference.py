"""aiida-core itself, measured as a reference in the same run.

aiida-core lives in a separate virtual environment: the python that
``AIIDASITE_AIIDA_PYTHON`` names, or ``.aiida-venv`` beside the project,
created on first use. Each measurement runs a short script there against a
fresh ``core.sqlite_dos`` profile under the workload's scratch folder; the
script prints its timing as the last line of its output. Without aiida-core
the workloads report no ratio rather than fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AIIDA_VERSION = "2.9.4"
# What the api.* workloads need beside aiida-core: its REST API and gunicorn.
REST_REQUIREMENTS = [f"aiida-core[rest]=={AIIDA_VERSION}", "gunicorn==27.0.1"]
SCRIPTS = Path(__file__).with_name("aiida_scripts")


def aiida_python() -> Path | None:
    """A python with aiida-core, installing one beside the project if needed."""
    named = os.environ.get("AIIDASITE_AIIDA_PYTHON")
    if named:
        return Path(named) if Path(named).is_file() else None
    venv = ROOT / ".aiida-venv"
    python = venv / "bin" / "python"
    if not python.is_file():
        print(f"installing aiida-core {AIIDA_VERSION} into {venv} ...", file=sys.stderr)
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    f"aiida-core=={AIIDA_VERSION}",
                ],
                check=True,
                capture_output=True,
            )
        except subprocess.CalledProcessError:
            return None
    return python


def run_aiida(script: str, workdir: Path, *args: Any) -> Any:
    """Run ``aiida_scripts/<script>.py`` with ``args`` on a fresh profile;
    the JSON its last output line holds, or None without aiida-core."""
    python = aiida_python()
    if python is None:
        return None
    env = {**os.environ, "AIIDA_PATH": str(workdir / "aiida")}
    if not (workdir / "aiida").exists():
        subprocess.run(
            [str(python.with_name("verdi")), "presto", "--profile-name", "bench"],
            env=env,
            check=True,
            capture_output=True,
        )
    result = subprocess.run(
        [str(python), str(SCRIPTS / f"{script}.py"), *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"aiida-core {script} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.splitlines()[-1])


def aiida_rest_python() -> Path | None:
    """A python with aiida-core's REST API and gunicorn, added if missing."""
    python = aiida_python()
    if python is None:
        return None
    probe = [str(python), "-c", "import flask_restful, gunicorn"]
    if subprocess.run(probe, capture_output=True).returncode != 0:
        print("installing aiida-core's REST API into its venv ...", file=sys.stderr)
        try:
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", *REST_REQUIREMENTS],
                check=True,
                capture_output=True,
            )
        except subprocess.CalledProcessError:
            return None
    return python
