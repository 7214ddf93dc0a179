"""Unpacking user archives (uploaded project zips) without trusting them.

An uploaded zip is hostile until checked: an entry may point outside the folder it is
unpacked into (``../x``, ``/etc/x``, ``C:\\x``, or ``../out2/x`` beside ``out``), be a
symbolic link, or expand to far more than it weighs (a zip bomb). Every check that the
central directory allows is made before anything is written; the sizes it declares can
lie, so the bytes are counted again while they are copied.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath, PureWindowsPath

from afg_core.errors import InputError

#: Suffixes of the data files a project may hold; everything else (pickles, scripts ...) is skipped.
ALLOWED_SUFFIXES = frozenset(
    {".csv", ".toml", ".npz", ".txt", ".md", ".tif", ".tiff", ".hdr", ".img", ".dat", ".xyz"}
)
#: Default limit on the uncompressed size of the extracted files (bytes): 2 GiB.
MAX_TOTAL_BYTES = 2 * 1024**3
#: Default limit on the number of entries in the zip.
MAX_FILES = 10_000
#: Largest uncompressed/compressed size ratio accepted for a member above ``RATIO_MIN_BYTES``.
MAX_COMPRESSION_RATIO = 200.0
#: Members smaller than this (bytes, uncompressed) are not ratio-checked: tiny files compress oddly.
RATIO_MIN_BYTES = 1_000_000
#: Bytes copied per read while streaming a member.
_CHUNK_BYTES = 1024 * 1024


def extract_archive(
    zip_path: str | Path,
    out_dir: str | Path,
    *,
    allowed_suffixes: frozenset[str] = ALLOWED_SUFFIXES,
    refused_suffixes: frozenset[str] = frozenset(),
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_files: int = MAX_FILES,
    skipped: list[str] | None = None,
) -> list[Path]:
    """Unpack a user's zip safely: the files with an allowed suffix, after every check.

    Parameters
    ----------
    zip_path : str or Path
        The uploaded zip.
    out_dir : str or Path
        Folder to unpack into (created when missing).
    allowed_suffixes : frozenset of str
        Suffixes extracted (lower case, with the dot); other entries are skipped.
    refused_suffixes : frozenset of str
        Suffixes that make the whole zip refused (e.g. pickles in a session file).
    max_total_bytes : int
        Limit on the uncompressed size of the extracted files (bytes; default 2 GiB),
        checked on the declared sizes before writing and again on the bytes copied.
    max_files : int
        Limit on the number of entries in the zip (default 10,000).
    skipped : list of str, optional
        When given, the names of entries skipped for their suffix are appended to it.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    InputError
        When the file is not a readable zip, has more than ``max_files`` entries, an
        entry points outside ``out_dir`` (``..``, absolute or drive path), is a symbolic
        link or has a refused suffix, a member expands more than
        :data:`MAX_COMPRESSION_RATIO` times, or the files add up to more than
        ``max_total_bytes``. Nothing is written when one of the checks on the zip's
        directory fails; when the size limit is passed while copying, the files written
        so far are removed.
    """
    zip_name = Path(zip_path).name
    root = Path(out_dir).resolve()
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(
            f"not a readable zip file ({exc})", file=zip_name, fix="upload the project folder zipped again"
        ) from exc
    with archive:
        members = archive.infolist()
        if len(members) > max_files:
            raise InputError(
                f"the zip holds {len(members)} entries, more than the limit of {max_files}",
                file=zip_name,
                fix="zip only the project folder (tables, project.toml, geophysics/, hyperspectral/)",
            )
        to_extract: list[tuple[zipfile.ZipInfo, Path]] = []
        for member in members:
            target = _checked_target(member, root, zip_name)
            if member.is_dir():
                continue
            suffix = PurePosixPath(member.filename.replace("\\", "/")).suffix.lower()
            if suffix in refused_suffixes:
                raise InputError(
                    f"entry '{member.filename}' is executable or pickled code ({suffix}); AFG never opens such files",
                    file=zip_name,
                    fix="remove it from the zip: sessions hold data, settings, .keras models and tables only",
                )
            if suffix not in allowed_suffixes:
                if skipped is not None:
                    skipped.append(member.filename)
                continue
            _check_member(member, zip_name)
            to_extract.append((member, target))
        _check_declared_total([member for member, _ in to_extract], max_total_bytes, zip_name)
        _copy_members(archive, to_extract, max_total_bytes, zip_name)
    return [target for _, target in to_extract]


def extract_project_zip(
    zip_path: str | Path,
    out_dir: str | Path,
    *,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_files: int = MAX_FILES,
    skipped: list[str] | None = None,
) -> Path:
    """Unpack an uploaded project zip safely (:func:`extract_archive`) and return the folder holding the tables.

    Only data files are extracted (suffixes in :data:`ALLOWED_SUFFIXES`: csv, toml, npz,
    txt, md, tif, tiff, hdr, img, dat, xyz); other entries are skipped. The project
    folder is the first folder (sorted) holding ``collar.csv``, else ``project.toml``,
    else ``samples.csv``: the zip root or a folder inside it.

    Raises
    ------
    InputError
        As :func:`extract_archive`, or when no project table is found.
    """
    out_dir = Path(out_dir)
    extract_archive(zip_path, out_dir, max_total_bytes=max_total_bytes, max_files=max_files, skipped=skipped)
    candidates = (
        sorted(p.parent for p in out_dir.rglob("collar.csv"))
        or sorted(p.parent for p in out_dir.rglob("project.toml"))
        or sorted(p.parent for p in out_dir.rglob("samples.csv"))
    )
    if not candidates:
        raise InputError(
            "no collar.csv, samples.csv or project.toml in the zip",
            file=Path(zip_path).name,
            fix="zip the project folder (collar.csv, survey.csv, assay.csv, ...)",
        )
    return candidates[0]


def _checked_target(member: zipfile.ZipInfo, root: Path, zip_name: str) -> Path:
    """Where ``member`` would be written under ``root`` (resolved), refusing escapes and links."""
    name = member.filename
    # Zips made on Windows may use backslashes; read them as separators on every platform,
    # so that "..\\x" cannot slip through as one odd file name and escape on Windows.
    posix_name = name.replace("\\", "/")
    windows = PureWindowsPath(name)
    if posix_name.startswith("/") or windows.drive or windows.root:
        raise InputError(
            f"zip entry '{name}' has an absolute path",
            file=zip_name,
            fix="zip the project folder with relative paths (zip -r project.zip project/)",
        )
    target = (root / posix_name).resolve()
    # Compare paths, not strings: ".../out2/x" starts with the string ".../out".
    if not target.is_relative_to(root):
        raise InputError(
            f"zip entry '{name}' points outside the folder it is unpacked into",
            file=zip_name,
            fix="zip the project folder itself, without '..' in any path",
        )
    if stat.S_ISLNK(member.external_attr >> 16):
        raise InputError(
            f"zip entry '{name}' is a symbolic link",
            file=zip_name,
            fix="zip the files the link points to instead of the link (zip without --symlinks)",
        )
    return target


def _check_member(member: zipfile.ZipInfo, zip_name: str) -> None:
    """Refuse a member that is encrypted or expands suspiciously (declared sizes)."""
    if member.flag_bits & 0x1:
        raise InputError(
            f"zip entry '{member.filename}' is encrypted",
            file=zip_name,
            fix="zip the project again without a password",
        )
    ratio = member.file_size / max(member.compress_size, 1)
    if member.file_size > RATIO_MIN_BYTES and ratio > MAX_COMPRESSION_RATIO:
        raise InputError(
            f"zip entry '{member.filename}' expands {ratio:,.0f} times ({member.compress_size:,} to "
            f"{member.file_size:,} bytes), more than the {MAX_COMPRESSION_RATIO:.0f}:1 accepted",
            file=zip_name,
            fix="this looks like a zip bomb; if the file is genuine, copy the project folder instead",
        )


def _check_declared_total(members: list[zipfile.ZipInfo], max_total_bytes: int, zip_name: str) -> None:
    """Refuse members whose declared uncompressed sizes add up to more than ``max_total_bytes``."""
    declared = sum(member.file_size for member in members)
    if declared > max_total_bytes:
        raise InputError(
            f"the files in the zip expand to {declared:,} bytes, more than the limit of "
            f"{max_total_bytes:,} bytes",
            file=zip_name,
            fix="upload a smaller project (drop files the project does not need)",
        )


def _copy_members(
    archive: zipfile.ZipFile, members: list[tuple[zipfile.ZipInfo, Path]], max_total_bytes: int, zip_name: str
) -> None:
    """Stream members to their targets in chunks, counting the bytes against ``max_total_bytes``."""
    written: list[Path] = []
    total = 0
    try:
        for member, target in members:
            target.parent.mkdir(parents=True, exist_ok=True)
            written.append(target)
            try:
                with archive.open(member) as source, target.open("wb") as sink:
                    while chunk := source.read(_CHUNK_BYTES):
                        total += len(chunk)
                        if total > max_total_bytes:
                            raise InputError(
                                f"zip entry '{member.filename}' takes the unpacked files past the limit "
                                f"of {max_total_bytes:,} bytes (its declared size is wrong)",
                                file=zip_name,
                                fix="upload a smaller project, zipped again with a standard zip tool",
                            )
                        sink.write(chunk)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                raise InputError(
                    f"zip entry '{member.filename}' could not be read ({exc})",
                    file=zip_name,
                    fix="zip the project folder again with a standard zip tool (deflate compression)",
                ) from exc
    except InputError:
        # Half an upload is worse than none: the caller might open what is left.
        for path in written:
            path.unlink(missing_ok=True)
        raise
