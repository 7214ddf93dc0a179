"""The one place where AFG touches private parts of Streamlit and stpyvista.

Both libraries lack a public way to do three things the app needs, so this module uses
their internals, and only for the versions it was tested with: importing it on any
other installed version fails at once with a message saying what to do, instead of a
page that silently breaks after an upgrade.

* Streamlit treats a ``pages/`` folder beside the entry point as a legacy multipage app
  until a session calls ``st.navigation`` (``PagesManager.uses_pages_directory``).
* Streamlit clears Keras' global state after every script run of every session, which breaks a
  network training on a background thread (``ScriptRunner``'s ``_clean_problem_modules``).
* stpyvista's public ``stpyvista(plotter)`` exports in a child process without a timeout
  and its panel mode fetches scripts from CDNs; its component (``_stpv_component``) shows
  an already exported, self-contained page.
"""

from __future__ import annotations

import sys
from importlib.metadata import version

from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import script_runner

#: Versions whose internals this module was written and tested against.
TESTED_VERSIONS = {"streamlit": "1.67.0", "stpyvista": "0.2.1"}


class UntestedVersionError(RuntimeError):
    """An installed library differs from the version whose internals ui/_compat.py uses."""


def check_versions(installed: dict[str, str] | None = None) -> None:
    """Raise :class:`UntestedVersionError` unless the installed versions are the tested ones."""
    installed = installed or {name: version(name) for name in TESTED_VERSIONS}
    wrong = {name: found for name, found in installed.items() if found != TESTED_VERSIONS[name]}
    if wrong:
        found = ", ".join(f"{name} {v} (tested: {TESTED_VERSIONS[name]})" for name, v in wrong.items())
        raise UntestedVersionError(
            f"ui/_compat.py uses private parts of {found}. Install the pinned versions "
            "(pip install -r requirements.txt -c constraints.txt), or check the hooks in ui/_compat.py "
            "against the new version and update TESTED_VERSIONS."
        )


check_versions()


def leave_legacy_pages_mode() -> bool:
    """Switch Streamlit from legacy ``pages/`` mode to ``st.navigation`` mode; True if it was in legacy mode."""
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        return True
    return False


class NavigationPagesManager(PagesManager):
    """A PagesManager that starts in ``st.navigation`` mode, as a running server does after its first session.

    For Streamlit's AppTest, which resets the class-wide mode before every run.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


def keep_keras_state_between_runs() -> None:
    """Stop Streamlit from clearing Keras' global state after each script run (it still closes pyplot figures).

    After every run of any session's script, Streamlit calls ``keras.backend.clear_session()``,
    which replaces Keras' per-thread global state for all threads at once. A network training on
    a background thread (ui.training) then fails mid-fit: measured, three runs of three failed
    with "'NoneType' object is not callable" in Dense.call while the main thread cleared the
    session every 50 ms. AFG needs no clearing: every fit builds and seeds its own model.
    """

    def close_pyplot_figures() -> None:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close("all")

    script_runner._clean_problem_modules = close_pyplot_figures


def show_exported_scene(html: str, height: int, key: str | None) -> None:
    """Show a self-contained vtk.js page (from ``afg_core.products.export_scene_html``) full width."""
    # Imported here: stpyvista registers its component at import, which needs a running Streamlit app.
    import stpyvista

    stpyvista._stpv_component(
        key=key,
        data={
            "_html": html,
            "backend": "trame",
            "height": height,
            "width": "stretch",
            "use_container_width": True,
        },
    )
