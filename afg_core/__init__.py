"""AFG core: REE grade prediction for banded iron formations.

All computation of the AFG dashboard lives here; nothing in this package imports
Streamlit, so every function is usable from plain Python and from the command line
(``python -m afg_core --help``).

Importing the package fixes two process-wide defaults before any heavy library loads:

* ``KERAS_BACKEND=jax``: measured fastest for the LSTM on CPU here, and TensorFlow is
  avoided because importing it made VTK's ``Render()`` segfault in the same process.
  Set the variable yourself before importing afg_core to choose another backend.
* ``VTK_DEFAULT_OPENGL_WINDOW=vtkEGLRenderWindow``: VTK renders headless through EGL
  without an X server.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")

__version__ = "0.1.0"
