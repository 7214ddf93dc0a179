"""House rules a machine can check: ruff lint and format, the import-linter layer contracts.

They run inside the test suite so that the README's one test command (and CI) enforces them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [["ruff", "check", "."], ["ruff", "format", "--check", "."], ["lint-imports"]],
    ids=["ruff-check", "ruff-format", "import-linter"],
)
def test_house_rule_passes(command: list[str]) -> None:
    done = subprocess.run([str(BIN / command[0]), *command[1:]], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}"


def test_importing_afg_core_sets_no_backend_until_asked() -> None:
    # scikit-learn sets KMP_* variables at its own import; what matters is that afg_core sets none of its own.
    code = (
        "import os, afg_core, afg_core.learn, afg_core.products; from afg_core.runtime import BACKEND_DEFAULTS; "
        "print([n for n in BACKEND_DEFAULTS if n in os.environ]); afg_core.configure_backends(); "
        "print(os.environ['KERAS_BACKEND'], os.environ['VTK_DEFAULT_OPENGL_WINDOW'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}
    )
    assert done.stdout.split("\n")[:2] == ["[]", "jax vtkEGLRenderWindow"], done.stdout + done.stderr


def test_configure_backends_keeps_a_backend_the_user_chose() -> None:
    code = "import os, afg_core; afg_core.configure_backends(); print(os.environ['KERAS_BACKEND'])"
    env = {"PATH": "/usr/bin:/bin", "KERAS_BACKEND": "torch"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.stdout.strip() == "torch", done.stderr


def test_afg_core_imports_no_user_interface_module() -> None:
    code = (
        "import sys, afg_core, afg_core.learn, afg_core.products, afg_core.demo; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'streamlit', 'stpyvista', 'ui', 'pages'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_ui_compat_refuses_an_untested_streamlit_with_a_clear_message() -> None:
    from ui._compat import TESTED_VERSIONS, UntestedVersionError, check_versions

    check_versions(dict(TESTED_VERSIONS))
    with pytest.raises(
        UntestedVersionError, match=r"streamlit 9\.9\.9 \(tested: 1\.67\.0\).*requirements\.txt"
    ):
        check_versions({**TESTED_VERSIONS, "streamlit": "9.9.9"})
