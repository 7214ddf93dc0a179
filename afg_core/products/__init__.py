"""What the meeting room sees: drill targets, grade-tonnage, 3D scenes, exports and run reports."""

from afg_core.products.exports import (
    estimate_cell_arrays,
    estimate_table,
    volume_cell_arrays,
    write_estimate_vti,
    write_plan_geotiff,
    write_table,
    write_volume_parquet,
    write_volume_vti,
)
from afg_core.products.omf_export import proposed_hole_ends, write_omf
from afg_core.products.report_html import build_report_html, read_model_cards, write_report_html
from afg_core.products.reports import summary_text, verdict_sentence, write_run_outputs
from afg_core.products.scene3d import (
    LayerStyle,
    Scene,
    SceneExportError,
    default_exaggeration,
    drillhole_traces,
    export_scene_html,
    scene_offset,
)
from afg_core.products.session import Session, open_session, save_session
from afg_core.products.targets import (
    BIF_DENSITY,
    BlockEstimate,
    estimate_from_volume,
    estimate_treo_blocks,
    grade_tonnage,
    grade_tonnage_band,
    propose_holes,
    propose_holes_for_project,
    rank_drill_targets,
    zone_labels,
)

__all__ = [
    "BIF_DENSITY",
    "BlockEstimate",
    "LayerStyle",
    "Scene",
    "SceneExportError",
    "Session",
    "build_report_html",
    "default_exaggeration",
    "drillhole_traces",
    "estimate_cell_arrays",
    "estimate_from_volume",
    "estimate_table",
    "estimate_treo_blocks",
    "export_scene_html",
    "grade_tonnage",
    "grade_tonnage_band",
    "open_session",
    "propose_holes",
    "propose_holes_for_project",
    "proposed_hole_ends",
    "rank_drill_targets",
    "read_model_cards",
    "save_session",
    "scene_offset",
    "summary_text",
    "verdict_sentence",
    "volume_cell_arrays",
    "write_estimate_vti",
    "write_omf",
    "write_plan_geotiff",
    "write_report_html",
    "write_run_outputs",
    "write_table",
    "write_volume_parquet",
    "write_volume_vti",
    "zone_labels",
]
