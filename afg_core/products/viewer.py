"""The 3D viewer's scene: every layer of the drill-target meeting, within a payload budget.

:func:`build_viewer_scene` turns a block estimate (kriged or a model's predicted volume),
the samples and the drill-target settings into a :class:`~afg_core.products.scene3d.Scene`
whose meshes together stay within ``ViewerSettings.payload_mb`` once exported: each layer
that is on gets a share of the budget and is coarsened until it fits
(:func:`afg_core.products.scene_layers.fit_to_budget`). The notes say which layers were
coarsened and by how much.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from afg_core.geochem import MAJORS
from afg_core.geostat.gradients import block_gradient
from afg_core.products.scene3d import LayerStyle, Scene, drillhole_traces
from afg_core.products.scene_layers import (
    arrow_glyphs,
    coarsen,
    fit_to_budget,
    gradient_vectors,
    hole_lines,
    iso_surface,
    mesh_bytes,
    orthogonal_slice,
    start_factor,
    thin_samples,
    threshold_surface,
)
from afg_core.products.targets import BlockEstimate, propose_holes, rank_drill_targets, zone_labels

#: Size of the exported page without any mesh: the embedded vtk.js viewer (~1.05 MB) and the axes.
PAGE_OVERHEAD_MB = 1.3
#: Share of the mesh budget per layer (relative weights of the layers that are on).
LAYER_WEIGHTS = {
    "blocks": 3.0,
    "compare": 1.5,
    "slices": 1.5,
    "iso": 2.0,
    "gradient": 1.5,
    "arrows": 1.5,
    "traces": 1.0,
    "zones": 1.0,
}
#: Most arrows drawn (one per coarse cell).
MAX_ARROWS = 1500
#: Most drill-hole samples drawn.
MAX_TRACE_POINTS = 40_000


@dataclass(frozen=True)
class ViewerSettings:
    """Everything the viewer's layers panel sets (hashable: the page caches scenes by it).

    Grades in ppm (wt% for majors), positions in project coordinates (m).
    """

    grade: str = "TREO"
    cutoff: float = 1000.0
    colour_by: str = "grade"  # grade | probability | uncertainty
    blocks: bool = True
    blocks_opacity: float = 0.35
    compare: bool = False
    slices: tuple[str, ...] = ()
    slice_position: tuple[float | None, float | None, float | None] = (None, None, None)
    iso: bool = False
    gradient: bool = False
    gradient_percentile: float = 90.0
    arrows: bool = False
    traces: bool = True
    trace_grade: str = "TREO"
    zones: bool = False
    min_probability: float = 0.5
    max_zones: int = 15
    exaggeration: float = 1.0
    payload_mb: float = 5.0


@dataclass(frozen=True)
class ViewerScene:
    """The scene, what it holds, and one note per layer that was thinned out to fit the budget."""

    scene: Scene
    layer_bytes: dict[str, int]
    notes: tuple[str, ...]

    @property
    def mesh_mb(self) -> float:
        """Meshes' size before compression (MB); the exported page adds ~``PAGE_OVERHEAD_MB``."""
        return sum(self.layer_bytes.values()) / 1e6


def grade_unit(grade: str) -> str:
    """Unit of a grade as shown: wt% for majors, ppm otherwise."""
    return "wt%" if grade in MAJORS else "ppm"


def _budgets(settings: ViewerSettings) -> dict[str, int]:
    on = {
        "blocks": settings.blocks,
        "compare": settings.compare,
        "slices": bool(settings.slices),
        "iso": settings.iso,
        "gradient": settings.gradient,
        "arrows": settings.arrows,
        "traces": settings.traces,
        "zones": settings.zones,
    }
    weights = {name: LAYER_WEIGHTS[name] for name, enabled in on.items() if enabled}
    # Conservative: base64 inflates the zipped scene by 4/3, and zip compression is not counted on.
    total = (settings.payload_mb - PAGE_OVERHEAD_MB) * 1e6 * 3 / 4
    return {name: int(total * w / sum(weights.values())) for name, w in weights.items()}


def _colour_field(estimate: BlockEstimate, settings: ViewerSettings) -> tuple[np.ndarray, LayerStyle]:
    """Values (per cell) and style of the quantity blocks and slices are coloured by, with a shared range."""
    grade, unit = settings.grade, grade_unit(settings.grade)
    if settings.colour_by == "probability":
        values = estimate.probability_above(settings.cutoff)
        return values, LayerStyle(
            scalars="probability",
            cmap="viridis",
            clim=(0.0, 1.0),
            scalar_bar_title=f"P({grade} > {settings.cutoff:,g} {unit})",
        )
    if settings.colour_by == "uncertainty":
        values = np.sqrt(np.clip(estimate.log_variance, 0.0, None))
        finite = values[np.isfinite(values)]
        return values, LayerStyle(
            scalars="uncertainty",
            cmap="magma_r",
            clim=(float(np.percentile(finite, 2)), float(np.percentile(finite, 98))),
            scalar_bar_title=f"Uncertainty: sd of ln {grade}",
        )
    values = np.log10(np.clip(estimate.grade_ppm, 1e-6, None))
    finite = values[np.isfinite(values)]
    low = min(float(np.percentile(finite, 2)), np.log10(settings.cutoff))
    return values, LayerStyle(
        scalars="grade",
        cmap="YlOrRd",
        clim=(low, float(np.percentile(finite, 99.5))),
        scalar_bar_title=f"{grade} ({unit}, log scale)",
        log10_values=True,
    )


def build_viewer_scene(
    settings: ViewerSettings,
    estimate: BlockEstimate | None,
    samples: pd.DataFrame,
    offset: tuple[float, float, float],
    comparison: BlockEstimate | None = None,
    surface=None,
    existing_traces: pd.DataFrame | None = None,
) -> ViewerScene:
    """The viewer's scene for ``settings``.

    Parameters
    ----------
    settings : ViewerSettings
    estimate : BlockEstimate or None
        The volume shown (its grade is ``settings.grade``): kriging or a model's prediction;
        None draws the drill holes only.
    samples : DataFrame
        ``hole_id, from, x, y, z`` and a ``settings.trace_grade`` column for the drill traces.
    offset : tuple
        Local origin (m), e.g. :func:`afg_core.products.scene_offset` of the samples.
    comparison : BlockEstimate, optional
        Drawn as a single-colour shell above the cut-off when ``settings.compare`` (e.g. the
        kriged volume beside a model's).
    surface, existing_traces
        Topography and existing hole paths for the proposed holes
        (:func:`afg_core.products.propose_holes`); needed when ``settings.zones``.
    """
    budgets = _budgets(settings)
    if estimate is None:  # a project with no volume to draw (no REE, no model run): holes only
        settings = replace(
            settings,
            blocks=False,
            compare=False,
            slices=(),
            iso=False,
            gradient=False,
            arrows=False,
            zones=False,
        )
    else:
        block = estimate.block
        grade = np.asarray(estimate.grade_ppm, dtype=float)
        log_grade = np.log(np.clip(grade, 1e-6, None))
        first = start_factor(block)
        colour, colour_style = _colour_field(estimate, settings)
    scene = Scene(offset, vertical_exaggeration=settings.exaggeration)
    sizes: dict[str, int] = {}
    notes: list[str] = []
    grade_name, unit = settings.grade, grade_unit(settings.grade)

    def add(key: str, label: str, built, style: LayerStyle) -> None:
        scene.layers.append((built.mesh, style))
        sizes[key] = sizes.get(key, 0) + mesh_bytes(built.mesh)
        if built.decimated:
            notes.append(
                f"{label}: drawn on a {built.factor}x coarser grid ({built.factor**3:,} cells averaged into one)"
            )

    if settings.blocks:

        def blocks(factor: int):
            coarse, values = coarsen(block, grade, factor)
            return threshold_surface(
                coarse,
                values,
                colour_style.scalars,
                offset,
                settings.cutoff,
                colour=coarsen(block, colour, factor)[1],
            )

        style = LayerStyle(**{**colour_style.__dict__, "opacity": settings.blocks_opacity})
        add(
            "blocks",
            f"Blocks above {settings.cutoff:,g} {unit}",
            fit_to_budget(blocks, budgets["blocks"], first),
            style,
        )

    if settings.compare and comparison is not None:
        other = np.asarray(comparison.grade_ppm, dtype=float)

        def compare(factor: int):
            coarse, values = coarsen(comparison.block, other, factor)
            return threshold_surface(coarse, values, "compare", offset, settings.cutoff)

        style = LayerStyle(
            color="#3182bd",
            opacity=0.25,
            legend=f"{comparison.source.capitalize()} {grade_name} > cut-off (comparison)",
        )
        add(
            "compare",
            "Comparison volume",
            fit_to_budget(compare, budgets["compare"], start_factor(comparison.block)),
            style,
        )

    if settings.slices:
        share = budgets["slices"] // len(settings.slices)
        centre = block.origin + 0.5 * (np.asarray(block.shape) - 1) * np.asarray(block.cell_size)
        for axis in settings.slices:
            index = "xyz".index(axis)
            position = settings.slice_position[index]
            position = float(centre[index]) if position is None else float(position)

            def cut(factor: int, axis=axis, position=position):
                coarse, values = coarsen(block, colour, factor)
                return orthogonal_slice(coarse, values, colour_style.scalars, offset, axis, position)

            add("slices", f"{axis.upper()} slice", fit_to_budget(cut, share, 1), colour_style)

    if settings.iso:

        def iso(factor: int):
            coarse, values = coarsen(block, log_grade, factor)
            return iso_surface(coarse, values, "iso", offset, float(np.log(settings.cutoff)))

        style = LayerStyle(
            color="#e6550d", opacity=0.55, legend=f"{grade_name} = {settings.cutoff:,g} {unit} surface"
        )
        add("iso", "Iso-surface", fit_to_budget(iso, budgets["iso"], first), style)

    gradient_title = f"|gradient of ln {grade_name}| (1/m)"
    if settings.gradient or settings.arrows:
        magnitude = block_gradient(block, log_grade).magnitude.ravel()
        finite = magnitude[np.isfinite(magnitude)]
        floor = float(np.percentile(finite, settings.gradient_percentile)) if len(finite) else 0.0
        gradient_style = LayerStyle(
            scalars="gradient",
            cmap="cividis",
            clim=(floor, float(np.percentile(finite, 99.5))) if len(finite) else None,
            scalar_bar_title=gradient_title,
        )
    if settings.gradient:

        def steep(factor: int):
            coarse, values = coarsen(block, magnitude, factor)
            return threshold_surface(coarse, values, "gradient", offset, floor)

        style = LayerStyle(**{**gradient_style.__dict__, "opacity": 0.5})
        add("gradient", "Gradient volume", fit_to_budget(steep, budgets["gradient"], first), style)

    if settings.arrows:
        # Arrows are cheap per arrow, so the arrow count (not the factor loop) is what the budget caps.
        arrows_max = min(MAX_ARROWS, budgets["arrows"] // 1100)
        vectors, factor, coarse = gradient_vectors(
            block, log_grade, offset, arrows_max, settings.exaggeration
        )
        length = 0.9 * min(coarse.cell_size[0], coarse.cell_size[1])
        glyphs = arrow_glyphs(vectors, length, "gradient")
        style = LayerStyle(**{**gradient_style.__dict__, "stretch": False})
        scene.layers.append((glyphs, style))
        sizes["arrows"] = mesh_bytes(glyphs)
        notes.append(
            f"Gradient arrows: one per {factor}x{factor}x{factor} cells ({vectors.n_points:,} arrows)"
        )

    if settings.traces and settings.trace_grade in samples:
        table = samples.dropna(subset=[settings.trace_grade, "x", "y", "z"])
        cap = min(MAX_TRACE_POINTS, budgets["traces"] // 28)
        table, step = thin_samples(table, cap)
        mesh = drillhole_traces(table, settings.trace_grade, offset, log10=True)
        mesh.points = np.asarray(mesh.points, dtype=np.float32)
        values = np.asarray(mesh.point_data[settings.trace_grade], dtype=float)
        finite = values[np.isfinite(values)]
        style = LayerStyle(
            scalars=settings.trace_grade,
            cmap="plasma",
            line_width=4,
            clim=(float(np.percentile(finite, 1)), float(np.percentile(finite, 99))) if len(finite) else None,
            scalar_bar_title=f"{settings.trace_grade} in drill holes ({grade_unit(settings.trace_grade)}, log scale)",
            log10_values=True,
        )
        scene.layers.append((mesh, style))
        sizes["traces"] = mesh_bytes(mesh)
        if step > 1:
            notes.append(f"Drill holes: 1 sample in {step} drawn ({len(table):,} of {len(samples):,})")

    if settings.zones:
        ranking = rank_drill_targets(
            estimate, settings.cutoff, samples[["x", "y", "z"]].dropna().to_numpy(), settings.min_probability
        ).head(settings.max_zones)
        labels, _ = zone_labels(estimate, settings.cutoff, settings.min_probability)
        rank_of = np.zeros(labels.max() + 1)
        rank_of[ranking["zone"].to_numpy()] = ranking["rank"].to_numpy()
        rank = np.where(rank_of[labels] > 0, rank_of[labels], np.nan)
        n = max(len(ranking), 1)
        style = LayerStyle(
            scalars="rank",
            cmap="cool",
            clim=(1.0, float(max(n, 2))),
            opacity=0.6,
            line_width=5,
            scalar_bar_title=f"Target zone rank (top {n}, 1 = best)",
        )

        def zones(factor: int):
            coarse, values = coarsen(block, rank, factor, how="min")
            return threshold_surface(coarse, values, "rank", offset, 1.0)

        add("zones", "Target zones", fit_to_budget(zones, budgets["zones"], first), style)
        if surface is not None and existing_traces is not None and len(ranking):
            holes = propose_holes(
                estimate, ranking, settings.cutoff, surface, existing_traces, settings.min_probability
            )
            lines = hole_lines(holes, offset)
            scene.layers.append((lines, LayerStyle(**{**style.__dict__, "opacity": 1.0, "line_width": 6})))
            sizes["zones"] += mesh_bytes(lines)

    return ViewerScene(scene, sizes, tuple(notes))
