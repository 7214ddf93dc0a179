"""Process-wide defaults of the libraries AFG drives, set once by an explicit call.

Call :func:`configure_backends` at the start of a program (``app.py`` and the command line
do), before anything imports Keras or renders with VTK. Importing ``afg_core`` changes
nothing in the environment.
"""

from __future__ import annotations

import os

#: Defaults applied by :func:`configure_backends`, each only when the variable is unset.
BACKEND_DEFAULTS = {
    # JAX measured fastest for the LSTM on CPU here; TensorFlow is avoided because
    # importing it made VTK's Render() segfault in the same process.
    "KERAS_BACKEND": "jax",
    # VTK renders headless through EGL, without an X server.
    "VTK_DEFAULT_OPENGL_WINDOW": "vtkEGLRenderWindow",
}


def configure_backends() -> dict[str, str]:
    """Set Keras on JAX and VTK off-screen (EGL) unless the user chose otherwise.

    A variable already set in the environment is kept, so ``KERAS_BACKEND=torch`` before
    the call still selects another Keras backend.

    Returns
    -------
    dict
        The values now in force for the variables of :data:`BACKEND_DEFAULTS`.

    Examples
    --------
    >>> from afg_core import configure_backends
    >>> configure_backends()["KERAS_BACKEND"] in {"jax", "torch", "tensorflow", "numpy"}
    True
    """
    for name, value in BACKEND_DEFAULTS.items():
        os.environ.setdefault(name, value)
    return {name: os.environ[name] for name in BACKEND_DEFAULTS}
