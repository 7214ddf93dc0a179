"""Streamlit-side helpers: cached calls into afg_core, plotly figures, the 3D view.

Pages stay thin: they read widgets, call these, and draw. Nothing here computes
geoscience; it caches and presents what afg_core returns.
"""
