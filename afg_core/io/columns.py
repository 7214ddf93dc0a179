"""Column recognition: which header of a table plays which role (hole id, easting, from ...).

Headers of the common conventions are recognised case-insensitively, with spaces,
dashes and dots read as ``_``. A trailing axis letter or length or angle unit in
brackets is read apart from the name (``East (X)``, ``Depth (m)``, ``Easting [m]``,
``RL (m AHD)``, ``Dip (deg)``); an axis letter decides between the x, y and z roles.
Concentration units stay part of the header, so that ``Y (ppm)`` (yttrium) never
becomes the y coordinate. An explicit mapping (project.toml ``[columns]``)
always wins. When two headers could play one role, or a required role has none, a
:class:`ColumnMappingError` names the file, the role and the candidates, so that the
Data page can offer a mapping form instead of a dead end.
"""

from __future__ import annotations

import re

from afg_core.errors import InputError
from afg_core.geochem import parse_element_column

#: Recognised headers per role, after :func:`normalise_header`.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "hole_id": (
        "hole_id",
        "holeid",
        "bhid",
        "hole",
        "dhid",
        "hole_no",
        "holename",
        "hole_name",
        "drillhole",
        "site_id",
    ),
    "x": (
        "x",
        "east",
        "easting",
        "xcollar",
        "x_collar",
        "e",
        "mga_east",
        "utm_east",
        "xcoo",
        "xcoord",
        "x_coord",
        "x_m",
    ),
    "y": (
        "y",
        "north",
        "northing",
        "ycollar",
        "y_collar",
        "n",
        "mga_north",
        "utm_north",
        "ycoo",
        "ycoord",
        "y_coord",
        "y_m",
    ),
    "z": ("z", "rl", "elev", "elevation", "zcollar", "z_collar", "collar_rl", "height", "z_m"),
    "longitude": ("longitude", "lon", "long", "lng"),
    "latitude": ("latitude", "lat"),
    "depth": ("depth", "max_depth", "maxdepth", "eoh", "td", "total_depth", "length", "final_depth"),
    "survey_depth": ("depth", "at", "survey_depth", "md", "distance"),
    "azimuth": ("azimuth", "az", "azi", "brg", "bearing"),
    "dip": ("dip", "incl", "inclination"),
    "from": ("from", "depth_from", "from_m", "mfrom", "frm", "start"),
    "to": ("to", "depth_to", "to_m", "mto", "end"),
    "lith": ("lith", "lithology", "rock", "rock_type", "lith_code", "unit"),
    "sample_id": ("sample_id", "sampleid", "sample", "sampno", "sample_no", "id", "site"),
}

#: Roles an axis letter in brackets (``East (X)``) can choose between.
_AXIS_ROLES = ("x", "y", "z")
#: Normalised headers naming a role other than x, y, z: their axis letter is no hint.
_OTHER_ROLE_NAMES = frozenset(
    alias for role, aliases in COLUMN_ALIASES.items() if role not in _AXIS_ROLES for alias in aliases
)
#: A trailing bracketed group: ``Depth (m)``, ``Easting [m]``.
_TRAILING_GROUP = re.compile(r"^(?P<base>.*?)\s*[(\[](?P<inner>[^()\[\]]*)[)\]]\s*$")
#: Length units (with an optional height datum: ``m RL``, ``mAHD``, ``m a.s.l.``) -> "m" or "ft".
_LENGTH_UNIT = re.compile(r"^(?P<unit>m|metres?|meters?|ft|feet|foot)(?:rl|ahd|asl|amsl|msl)?$")
#: Angle units, for azimuth, dip, longitude and latitude headers.
_ANGLE_UNIT = re.compile(r"^(?:deg|degs|degrees?|°|dd|decimaldegrees)$")


#: Roles of each kind of table: role -> required.
TABLE_ROLES: dict[str, dict[str, bool]] = {
    "collar": {
        "hole_id": True,
        "x": False,
        "y": False,
        "longitude": False,
        "latitude": False,
        "z": False,
        "depth": False,
        "azimuth": False,
        "dip": False,
    },
    "survey": {"hole_id": True, "survey_depth": True, "azimuth": True, "dip": True},
    "assay": {"hole_id": True, "from": True, "to": True},
    "lithology": {"hole_id": True, "from": True, "to": True, "lith": False},
    "samples": {
        "x": False,
        "y": False,
        "z": False,
        "longitude": False,
        "latitude": False,
        "hole_id": False,
        "sample_id": False,
        "from": False,
        "to": False,
    },
}


class ColumnMappingError(InputError):
    """No column, or several, could play a role: the user must say which.

    Attributes
    ----------
    role : str
        The role (``"x"``, ``"hole_id"`` ...).
    candidates : list of str
        Headers that could play it (empty when none was recognised).
    headers : list of str
        Every header of the file, for a mapping form.
    """

    def __init__(
        self, message: str, *, file: str, role: str, candidates: list[str], headers: list[str], fix: str
    ) -> None:
        super().__init__(message, file=file, column=candidates[0] if candidates else role, fix=fix)
        self.role = role
        self.candidates = candidates
        self.headers = headers


def _split_header(name: str) -> tuple[str, str | None]:
    """The header without a trailing axis letter or length/angle unit, and that letter or unit.

    Returns the base as written and the bracketed text squeezed (lower case, no spaces
    or dots: ``"m a.s.l."`` -> ``"masl"``), or the whole header and None when it ends in
    no bracketed group, or in one that is neither an axis nor such a unit (``ppm``, ``%``).
    """
    text = str(name).strip()
    match = _TRAILING_GROUP.match(text)
    if not match or not match.group("base"):
        return text, None
    inner = re.sub(r"[\s.]", "", match.group("inner").lower())
    if inner in _AXIS_ROLES or _LENGTH_UNIT.match(inner) or _ANGLE_UNIT.match(inner):
        return match.group("base"), inner
    return text, None


def normalise_header(name: str) -> str:
    """Lower case, with spaces, dashes and dots as ``_`` (``"Hole-ID"`` -> ``"hole_id"``).

    A trailing axis letter or length/angle unit in brackets is dropped
    (``"Depth (m)"`` -> ``"depth"``, ``"East (X)"`` -> ``"east"``); a concentration unit
    is kept (``"Y (ppm)"`` -> ``"y_(ppm)"``), so element columns never match a role.
    """
    base, _ = _split_header(name)
    return base.lower().replace(" ", "_").replace("-", "_").replace(".", "_")


def header_axis(name: str) -> str | None:
    """The axis letter a header carries in brackets (``"East (X)"`` -> ``"x"``), else None."""
    _, inner = _split_header(name)
    return inner if inner in _AXIS_ROLES else None


def header_length_unit(name: str) -> str | None:
    """The length unit a header carries in brackets, as ``"m"`` or ``"ft"``, else None.

    ``"Depth (ft)"`` -> ``"ft"``, ``"RL (m AHD)"`` -> ``"m"``, ``"Depth"`` -> None.
    """
    _, inner = _split_header(name)
    match = _LENGTH_UNIT.match(inner) if inner else None
    if not match:
        return None
    return "ft" if match.group("unit") in ("ft", "feet", "foot") else "m"


def _plays(header: str, role: str) -> bool:
    """Whether ``header`` is recognised as ``role``."""
    base = normalise_header(header)
    axis = header_axis(header)
    # "East (X)", "Coord (Y)": the letter decides among x, y, z, even over the name; but
    # "Longitude (X)" stays longitude (degrees) and "Depth (Z)" stays depth.
    if axis is not None and role in _AXIS_ROLES and base not in _OTHER_ROLE_NAMES:
        return axis == role
    return base in COLUMN_ALIASES[role]


def recognise_columns(
    columns: list[str],
    roles: dict[str, bool],
    file: str,
    overrides: dict[str, str] | None = None,
) -> dict[str, str]:
    """Map roles (``hole_id``, ``x`` ...) to the file's column names.

    Parameters
    ----------
    columns : list of str
        Headers of the file.
    roles : dict
        Role -> whether it is required.
    file : str
        File name, for messages.
    overrides : dict, optional
        Role -> header, from project.toml ``[columns]``; wins over recognition. An
        override naming a header the file lacks is ignored for this file (one
        ``[columns]`` table serves every file).

    Returns
    -------
    dict
        Role -> header for every role found.

    Raises
    ------
    ColumnMappingError
        When a required role has no column, or two columns claim one role.
    """
    overrides = overrides or {}
    columns = [str(c) for c in columns]
    claimed = {overrides[r] for r in roles if r in overrides and overrides[r] in columns}
    found: dict[str, str] = {}
    for role, required in roles.items():
        if role in overrides and overrides[role] in columns:
            found[role] = overrides[role]
            continue
        aliases = COLUMN_ALIASES[role]
        matches = [c for c in columns if _plays(c, role) and c not in found.values() and c not in claimed]
        if len(matches) > 1:
            # "Y" beside "Ycoord" is yttrium: a header that also names an element yields.
            not_elements = [c for c in matches if parse_element_column(c) is None]
            matches = not_elements if len(not_elements) == 1 else matches
        if len(matches) > 1:
            raise ColumnMappingError(
                f"columns {matches} could all be the '{role}' column",
                file=file,
                role=role,
                candidates=matches,
                headers=columns,
                fix=f'name the one to use in project.toml under [columns], e.g. {role} = "{matches[0]}"',
            )
        if matches:
            found[role] = matches[0]
        elif required:
            raise ColumnMappingError(
                f"no column recognised as '{role}' (looked for {', '.join(aliases[:6])} ...); "
                f"the file has {columns}",
                file=file,
                role=role,
                candidates=[],
                headers=columns,
                fix=f'rename the column or map it in project.toml: [columns] {role} = "YOUR_HEADER"',
            )
    return found
