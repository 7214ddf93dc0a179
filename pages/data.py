"""Data: open a project, check what was read, look at holes, maps and REE patterns."""

import tempfile
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from afg_core.errors import InputError
from afg_core.geochem import MAJORS, REE_TARGETS, normalise, total_rare_earth_oxides
from afg_core.io import ColumnMappingError, add_column_mapping, extract_project_zip, load_project
from afg_core.products import open_session, save_session
from ui.plots import plan_map, spider_plot, strip_logs
from ui.state import current_project, current_project_dir, demo_project_dir, upload_folder

st.title("Data")


def open_folder(folder: Path) -> None:
    """Open a project folder; an unclear column leads to the mapping form instead of a dead end."""
    try:
        load_project(folder)
    except ColumnMappingError as exc:
        st.session_state["pending_mapping"] = {
            "folder": str(folder),
            "file": exc.file,
            "role": exc.role,
            "candidates": exc.candidates,
            "headers": exc.headers,
            "message": str(exc),
        }
        st.rerun()
    except InputError as exc:
        st.error(f"Could not open the project: {exc}")
    else:
        st.session_state.pop("pending_mapping", None)
        st.session_state["project_dir"] = str(folder)
        st.rerun()


pending = st.session_state.get("pending_mapping")
if pending:
    st.warning(pending["message"])
    with st.form("column_mapping"):
        st.write(f"Which column of **{pending['file']}** is the **{pending['role']}** column?")
        options = pending["candidates"] + [h for h in pending["headers"] if h not in pending["candidates"]]
        header = st.selectbox("Column", options)
        if st.form_submit_button("Save the mapping in project.toml and open"):
            add_column_mapping(pending["folder"], pending["role"], header)
            open_folder(Path(pending["folder"]))

with st.expander("Session: save or open", expanded=False):
    st.caption(
        "A session file is one zip with the project's data, the settings of the pages and the latest Train run "
        "(metrics, tables, predicted volume, models). Opening one refuses code, pickles and unsafe paths."
    )
    latest = st.session_state.get("latest_experiment")
    settings = {
        key: value
        for key, value in st.session_state.items()
        if isinstance(key, str)
        and isinstance(value, bool | int | float | str)
        and not key.startswith("FormSubmitter")
        and key not in ("project_dir", "session_bytes")
    }
    if st.button(
        "Prepare a session file", help="Packs the data, settings and latest run (takes a few seconds)"
    ):
        with st.spinner("Packing the session..."), tempfile.TemporaryDirectory() as scratch:
            session_file = save_session(
                Path(scratch) / "afg_session.zip",
                current_project_dir(),
                settings,
                latest["folder"] if latest else None,
                project_name=current_project().settings.name,
            )
            st.session_state["session_bytes"] = session_file.read_bytes()
    if "session_bytes" in st.session_state:
        st.download_button(
            "Save session", st.session_state["session_bytes"], "afg_session.zip", "application/zip"
        )
    opened = st.file_uploader("Open a session file", type=["zip"], key="session_upload")
    if opened is not None and st.button("Open the session"):
        folder = upload_folder("session")
        (folder / "session.zip").write_bytes(opened.getvalue())
        try:
            session = open_session(folder / "session.zip", folder / "unpacked")
        except InputError as exc:
            st.error(f"Could not open the session: {exc}")
        else:
            for key, value in session.settings.items():
                try:
                    st.session_state[key] = value
                except StreamlitAPIException:
                    # A widget already drawn in this run (app.py's sidebar: this server's compute
                    # engine and block store) keeps its value; Streamlit refuses to change it now.
                    pass
            st.session_state["opened_session"] = {
                "name": session.project_name,
                "created": session.created,
                "run": str(session.run_dir) if session.run_dir else None,
            }
            open_folder(session.project_dir)
    info = st.session_state.get("opened_session")
    if info:
        st.success(f"Session of {info['name'] or 'a project'} saved {info['created']} is open.")
        if info["run"] and (Path(info["run"]) / "summary.txt").exists():
            st.text((Path(info["run"]) / "summary.txt").read_text(encoding="utf-8"))

with st.expander("Open a project", expanded=False):
    source = st.radio(
        "Source", ["Built-in demo project", "Project folder as a zip", "Separate files"], horizontal=True
    )
    if source == "Built-in demo project":
        if st.button("Use the demo project"):
            st.session_state["project_dir"] = demo_project_dir()
            st.rerun()
    elif source == "Project folder as a zip":
        upload = st.file_uploader(
            "Zip of the project folder (collar.csv, survey.csv, assay.csv, ...)", type=["zip"]
        )
        if upload is not None and st.button("Open the zip"):
            folder = upload_folder("upload")
            (folder / "upload.zip").write_bytes(upload.getvalue())
            try:
                project_dir = extract_project_zip(folder / "upload.zip", folder / "project")
            except InputError as exc:
                st.error(f"Could not open the project: {exc}")
            else:
                open_folder(project_dir)
    else:
        files = st.file_uploader(
            "collar.csv, assay.csv and optionally survey.csv, lithology.csv, project.toml "
            "(or a flat samples.csv)",
            type=["csv", "toml"],
            accept_multiple_files=True,
        )
        if files and st.button("Open the files"):
            folder = upload_folder("upload")
            for file in files:
                (folder / Path(file.name).name).write_bytes(file.getvalue())
            open_folder(folder)

project = current_project()
db = project.drillholes
samples = db.samples
st.subheader(project.settings.name)
if project.settings.description:
    st.caption(project.settings.description)

metres = float((db.assay["to"] - db.assay["from"]).sum())
cols = st.columns(5)
cols[0].metric("Drill holes", len(db.collar))
cols[1].metric("Survey stations", len(db.survey))
cols[2].metric("Assay intervals", f"{len(db.assay):,}")
cols[3].metric("Metres assayed", f"{metres:,.0f}")
cols[4].metric("Elements", len(db.elements))

report = project.report
with st.expander(
    f"Validation report: {'usable' if report.usable else 'NOT usable'}, {len(report.findings)} findings",
    expanded=not report.usable,
):
    st.dataframe(report.accounting_frame(), hide_index=True, width="stretch")
    st.dataframe(report.to_frame(), hide_index=True, width="stretch")
    st.caption(
        "Columns read (role: header): "
        + "; ".join(
            f"{file}: " + ", ".join(f"{role} = {header}" for role, header in roles.items())
            for file, roles in report.column_roles.items()
        )
    )

tab_collar, tab_survey, tab_assay = st.tabs(["Collars", "Survey", "Assays (with sample positions)"])
leading = [c for c in ("hole_id", "x", "y", "z", "depth", "azimuth", "dip") if c in db.collar]
tab_collar.dataframe(
    db.collar[leading + [c for c in db.collar if c not in leading]], hide_index=True, width="stretch"
)
tab_survey.dataframe(db.survey, hide_index=True, width="stretch")
tab_assay.dataframe(
    samples.drop(columns=[c for c in samples if c.endswith("_bdl")]), hide_index=True, width="stretch"
)

st.subheader("Plan map")
traces = db.traces(step=10.0)
grids = project.geophysics
if grids:
    names = sorted(grids, key=lambda n: "magnetic" not in n)
    grid_name = st.selectbox("Background grid", names, format_func=lambda n: n.replace("_", " "))
    grid = grids[grid_name]
    elevation = None
    if grid.is_3d:
        levels = grid.axes()[2]
        # Default to the level through the middle of the assays: fresh rock, fully below topography.
        middle = float(levels[np.argmin(np.abs(levels - samples["z"].median()))])
        elevation = st.slider(
            "Slice elevation (m)",
            float(levels.min()),
            float(levels.max()),
            middle,
            step=float(grid.spacing[2]),
        )
    gx, gy, values = grid.plan_slice(elevation)
    st.plotly_chart(plan_map(gx, gy, values, traces, db.collar, f"{grid.unit}"), width="stretch")
else:
    st.info("This project has no geophysics grids: collars and traces only.")
    st.plotly_chart(
        plan_map(np.array([]), np.array([]), np.empty((0, 0)), traces, db.collar, ""), width="stretch"
    )


@st.fragment
def hole_view() -> None:
    """Down-hole logs and REE patterns of one hole: a fragment, so choosing a hole or a normalisation
    reruns these two sections only, not the tables and plan map above (fast while another session trains)."""
    st.subheader("Down-hole logs")
    hole_id = st.selectbox("Hole", db.collar["hole_id"].tolist())
    hole = samples.loc[samples["hole_id"] == hole_id].sort_values("from").copy()
    ree = [e for e in REE_TARGETS if e in hole]
    columns = [(e, f"{e} (wt%)") for e in MAJORS if e in hole]
    if ree:
        hole["TREO"] = total_rare_earth_oxides(hole[ree])
        columns.append(("TREO", "TREO (ppm)"))
    lithology = db.lithology.loc[db.lithology["hole_id"] == hole_id] if db.lithology is not None else None
    if columns:
        st.plotly_chart(strip_logs(hole, columns, lithology), width="stretch")

    st.subheader("REE patterns")
    if len(ree) >= 10:
        reference = st.radio(
            "Normalise to",
            ["chondrite", "PAAS"],
            horizontal=True,
            help="CI chondrite: McDonough & Sun (1995). PAAS: Taylor & McLennan (1985).",
        )
        normalised = normalise(hole[ree].dropna(), reference)
        background = None
        if "lith" in samples:
            bif = samples.loc[samples["lith"].fillna("").str.startswith("BIF"), ree].dropna()
            treo = total_rare_earth_oxides(bif)
            background = normalise(bif[treo < treo.quantile(0.5)], reference).median()
        st.plotly_chart(
            spider_plot(
                normalised,
                hole.loc[normalised.index, "from"],
                hole.loc[normalised.index, "TREO"],
                reference,
                background,
            ),
            width="stretch",
        )
        st.caption(
            f"{len(normalised)} samples of {hole_id}, coloured by TREO; black: median of the lower-grade half of "
            "BIF samples of the project."
        )
    else:
        st.info("Fewer than 10 REE columns in the assays: no spider diagram.")


hole_view()
