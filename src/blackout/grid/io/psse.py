"""PSS/E RAW files through pypowsybl (optional extra ``psse``) and pandapower's converter."""

from __future__ import annotations

from pathlib import Path

from blackout.errors import BlackoutError, CaseFormatError
from blackout.grid.model import Grid
from blackout.inputfiles import CASE_MAX_BYTES, read_bytes

__all__ = ["read_psse"]


def read_psse(path: str | Path) -> Grid:
    """Read a PSS/E ``.raw`` case (needs ``pip install blackout-sim[psse]``)."""
    path = Path(path)
    # pypowsybl reads the file by path: check it is a regular file under the cap first
    read_bytes(path, max_bytes=CASE_MAX_BYTES, what="case", error=CaseFormatError)
    try:
        import pypowsybl.network as pn
    except ImportError:
        raise BlackoutError(
            f"{path}: reading PSS/E RAW needs the 'psse' extra: pip install 'blackout-sim[psse]'"
        ) from None
    try:
        network = pn.load(str(path))
        from pandapower.converter.powsybl import from_powsybl

        net = from_powsybl(network)
    except Exception as exc:
        raise CaseFormatError(f"cannot read PSS/E RAW ({exc})", path=str(path)) from None
    from blackout.grid.io.pandapower import grid_from_pandapower

    return grid_from_pandapower(net, name=path.stem, path=str(path))
