"""Writing files so that a failure never leaves a half-written one: outputs go to a temporary file in the same
folder, renamed into place only once complete (a full disk or a killed process leaves the old file intact)."""
import os
import tempfile
from pathlib import Path


def atomic_write(dest, write, suffix=".part"):
    """Call ``write(tmp_path)`` on a temporary file next to ``dest`` (folders created), then rename it to
    ``dest``; on any failure the temporary file is removed and ``dest`` is left as it was. Returns ``dest``
    (a ``Path``). ``suffix`` ends the temporary name (writers that choose a format by extension need it)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        # mkstemp makes the file private (0600): give it the mode the file had, or a new file's usual mode
        os.chmod(tmp, dest.stat().st_mode & 0o777 if dest.exists() else 0o666 & ~_umask())
        os.replace(tmp, dest)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        if e.filename is None or str(e.filename) == tmp:  # name the file the caller asked for
            raise OSError(e.errno, e.strerror or str(e), str(dest)) from e
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
