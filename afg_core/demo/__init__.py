"""The built-in synthetic demo: a BIF-hosted REE deposit with holes, geophysics, a UAV cube and truth."""

from afg_core.demo.generator import generate_demo_project

__all__ = ["generate_demo_project"]
