"""AFG dashboard: REE grade prediction for banded iron formations.

Run with ``streamlit run app.py``. Opens on the built-in synthetic demo project.
"""

import streamlit as st

from afg_core import configure_backends

configure_backends()  # Keras on JAX, VTK off-screen: before any page loads them

from ui.state import current_project

# Emoji favicon: the browser draws it from a data: URI. A ":material/...:" favicon is fetched from
# fonts.gstatic.com, which fails offline (tests/test_browser.py checks nothing leaves localhost).
st.set_page_config(page_title="AFG - REE targeting", page_icon="⛰️", layout="wide")

pages = [
    st.Page("pages/data.py", title="Data", icon=":material/table_chart:", default=True),
    st.Page("pages/variogram.py", title="Variogram", icon=":material/show_chart:"),
    st.Page("pages/spectral_pca.py", title="Spectral PCA", icon=":material/gradient:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/viewer_3d.py", title="3D Viewer", icon=":material/view_in_ar:"),
    st.Page("pages/drill_targets.py", title="Drill Targets", icon=":material/my_location:"),
]
navigation = st.navigation(pages)

project = current_project()
with st.sidebar:
    st.markdown("### AFG")
    st.caption("REE grade prediction for banded iron formations")
    st.markdown(f"**Project:** {project.settings.name}")
    db = project.drillholes
    st.caption(
        f"{len(db.collar)} holes · {len(db.assay):,} assay intervals · CRS {project.settings.crs or 'not set'}"
    )
    with st.expander("Compute engine"):
        st.text_input(
            "Where block models are kriged and predicted",
            key="engine",
            value="threads",
            help="threads: this server process (default). local: a Dask LocalCluster on this machine. "
            "tcp://host:8786: an existing Dask scheduler (dask-jobqueue, Kubernetes); results are identical.",
        )
        st.text_input(
            "Block store (zarr folder on this server)",
            key="block_store",
            placeholder="/data/model.zarr",
            help="A block model of any size kriged out of core by `python -m afg_core krige PROJECT --store DIR`; "
            "the 3D Viewer and Drill Targets then offer it as a volume, read as an averaged copy.",
        )

navigation.run()
